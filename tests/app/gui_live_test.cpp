// The live testbed panel, offscreen, on real 127.0.0.1 sockets: start from a scenario file,
// fetch the page through the URL it shows, watch the diagram and the request log move, change
// a link from its slider, stop and find no listening socket left; the address guard; the
// diagram's boxes and the request log's bound.
#include "../support/listening_sockets.hpp"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QLabel>
#include <QPushButton>
#include <QLineEdit>
#include <QSlider>
#include <QTableView>
#include <QSpinBox>
#include <QtTest>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "live_chart.hpp"
#include "live_link_controls.hpp"
#include "live_panel.hpp"
#include "live_request_model.hpp"
#include "satlink/simulator/replay.hpp"
#include "scenario_document.hpp"
#include "testbed_diagram.hpp"

using namespace satlink::gui;
namespace sim = satlink::simulator;

namespace {

const char* const kTiny = SATLINK_SCENARIOS_DIR "/../tests/app/tiny-scenario.json";


// A blocking connect: a refused port answers at once on loopback.
bool accepts(quint16 port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// GET through the testbed as a browser's first request would, on a blocking socket with a
// receive timeout (the testbed serves on its own thread); the whole response, once the server
// has closed (Connection: close).
QByteArray fetch(const QUrl& url) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<quint16>(url.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  QByteArray response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const QByteArray request =
        "GET " + url.path().toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.constData(), static_cast<size_t>(request.size()), MSG_NOSIGNAL) ==
        request.size()) {
      char buf[16384];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, n);
    }
  }
  ::close(fd);
  return response;
}

// A port held by someone else: a listening socket on 127.0.0.1.
struct TakenPort {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  quint16 port = 0;
  TakenPort() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd, 4) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
  }
  ~TakenPort() { ::close(fd); }
};

void load(ScenarioDocument& doc) {
  QString error;
  QVERIFY2(doc.load(QString::fromUtf8(kTiny), &error), qPrintable(error));
  QVERIFY(doc.isValid());
}

QPushButton* startStop(LivePanel& panel) {
  return panel.findChild<QPushButton*>(QStringLiteral("startStop"));
}

}  // namespace

class LiveTest : public QObject {
  Q_OBJECT

 private slots:
  void servesThePageChangesALinkAndStops();
  void stopsOnDestruction();
  void warnsAboutAddressesBeyondLoopback();
  void aPortInUseShowsTheEnginesMessage();
  void anInvalidScenarioCannotStart();
  void diagramDrawsTheModesChain();
  void requestLogIsBounded();
};

void LiveTest::servesThePageChangesALinkAndStops() {
  ScenarioDocument doc;
  load(doc);
  const auto before = satlink::test::own_listening_sockets();
  LivePanel panel(&doc);
  panel.resize(1000, 700);
  panel.show();
  startStop(panel)->click();
  QVERIFY2(panel.isRunning(), qPrintable(panel.message()));
  const QUrl url(panel.url());
  QCOMPARE(url.scheme(), QStringLiteral("http"));
  QCOMPARE(url.host(), QStringLiteral("127.0.0.1"));
  QCOMPARE(panel.findChild<QLineEdit*>(QStringLiteral("url"))->text(), panel.url());
  QVERIFY(satlink::test::own_listening_sockets().size() >= before.size() + 4);  // client link, proxy, link, origin

  const QByteArray response = fetch(url);
  QVERIFY2(response.startsWith("HTTP/1.1 200"), response.left(200).constData());
  const QByteArray body = response.mid(response.indexOf("\r\n\r\n") + 4);
  QVERIFY2(body.contains("<html") || body.contains("<!DOCTYPE"), body.left(200).constData());

  // The poll timer moves the diagram and the request log.
  QVERIFY(QTest::qWaitFor(
      [&] {
        const DiagramState& s = panel.diagram()->state();
        return s.browserConnections >= 1 && s.requests >= 1 && s.originConnections >= 1;
      },
      5000));
  QVERIFY(QTest::qWaitFor([&] { return panel.requestLog()->model()->rowCount() >= 1; }, 5000));
  const QAbstractItemModel* log = panel.requestLog()->model();
  QCOMPARE(log->data(log->index(0, LiveRequestModel::Status)).toInt(), 200);
  QVERIFY(panel.diagram()->state().proxy);  // the panel's default mode: keep-alive
  QVERIFY(panel.chart()->graphCount() == 3 && panel.chart()->graph(1)->dataCount() >= 1);

  // A slider acts on the running link once it rests.
  LinkControls* client = panel.linkControls(sim::LinkSide::client);
  QVERIFY(client->isEnabled());
  QCOMPARE(panel.testbed().link_config(sim::LinkSide::client).down.delay_ms, 10.0);
  client->delaySlider()->setValue(250);
  QVERIFY(QTest::qWaitFor(
      [&] { return panel.testbed().link_config(sim::LinkSide::client).down.delay_ms == 250; },
      3000));
  QCOMPARE(panel.testbed().link_config(sim::LinkSide::client).up.delay_ms, 250.0);
  QVERIFY2(panel.diagram()->state().clientLinkDetail.startsWith("RTT 500 ms"),
           qPrintable(panel.diagram()->state().clientLinkDetail));
  panel.linkControls(sim::LinkSide::server)->lossSlider()->setValue(10);  // 0.1 %
  QVERIFY(QTest::qWaitFor(
      [&] { return panel.testbed().link_config(sim::LinkSide::server).down.loss.rate > 0; }, 3000));
  QCOMPARE(panel.testbed().link_config(sim::LinkSide::server).up.loss.rate, 0.001);

  if (qEnvironmentVariableIsSet("SATLINK_LIVE_PNG")) {  // for a person to look at
    // A browser's page loads (the replay client: 6 connections held idle a while) for a
    // busier picture; the event loop keeps polling meanwhile.
    std::atomic<bool> done{false};
    std::thread browser([&] {
      sim::ReplayOptions o;
      o.port = static_cast<quint16>(url.port());
      o.idle_hold_ms = 1500;
      for (int i = 0; i < 2; ++i) sim::Replay(o, nullptr).run();
      done = true;
    });
    const bool loaded = QTest::qWaitFor([&] { return done.load(); }, 30000);
    browser.join();  // before any verdict: a running thread must not be destroyed
    QVERIFY(loaded);
    QTest::qWait(1000);  // a few more chart samples
    panel.grab().save(qEnvironmentVariable("SATLINK_LIVE_PNG"));
  }

  const quint16 port = static_cast<quint16>(url.port());
  startStop(panel)->click();
  QVERIFY(!panel.isRunning());
  QVERIFY(panel.url().isEmpty());
  QVERIFY(!accepts(port));
  QCOMPARE(satlink::test::own_listening_sockets(), before);
  QVERIFY(panel.diagram()->state().requests >= 1);  // the last counters stay on show

  // The panel stays usable: it starts again, with a fresh log.
  startStop(panel)->click();
  QVERIFY2(panel.isRunning(), qPrintable(panel.message()));
  QCOMPARE(panel.requestLog()->model()->rowCount(), 0);
  QVERIFY(fetch(QUrl(panel.url())).startsWith("HTTP/1.1 200"));
  panel.stop();
  QCOMPARE(satlink::test::own_listening_sockets(), before);
}

void LiveTest::stopsOnDestruction() {
  ScenarioDocument doc;
  load(doc);
  const auto before = satlink::test::own_listening_sockets();
  quint16 port = 0;
  {
    LivePanel panel(&doc);
    panel.start();
    QVERIFY(panel.isRunning());
    port = static_cast<quint16>(QUrl(panel.url()).port());
    QVERIFY(accepts(port));
  }
  QVERIFY(!accepts(port));
  QCOMPARE(satlink::test::own_listening_sockets(), before);
}

void LiveTest::warnsAboutAddressesBeyondLoopback() {
  ScenarioDocument doc;
  load(doc);
  LivePanel panel(&doc);
  auto* address = panel.findChild<QLineEdit*>(QStringLiteral("listenAddress"));
  QCOMPARE(address->text(), QStringLiteral("127.0.0.1"));
  QVERIFY(!panel.addressWarningVisible());
  address->setText(QStringLiteral("0.0.0.0"));
  QVERIFY(panel.addressWarningVisible());
  QVERIFY(panel.findChild<QLabel*>(QStringLiteral("addressWarning"))->text().contains("anyone"));
  address->setText(QStringLiteral("::1"));
  QVERIFY(!panel.addressWarningVisible());
  address->setText(QStringLiteral("localhost"));  // the engine binds numeric addresses only
  QVERIFY(panel.addressWarningVisible());
  startStop(panel)->click();
  QVERIFY(!panel.isRunning());
  QVERIFY2(panel.message().contains("not a numeric"), qPrintable(panel.message()));
}

void LiveTest::aPortInUseShowsTheEnginesMessage() {
  ScenarioDocument doc;
  load(doc);
  const TakenPort taken;
  QVERIFY(taken.port != 0);
  LivePanel panel(&doc);
  panel.findChild<QSpinBox*>(QStringLiteral("listenPort"))->setValue(taken.port);
  startStop(panel)->click();
  QVERIFY(!panel.isRunning());
  QVERIFY2(panel.message().contains(QStringLiteral("127.0.0.1:%1").arg(taken.port)),
           qPrintable(panel.message()));
  QVERIFY(startStop(panel)->isEnabled());  // a free port next time
}

void LiveTest::anInvalidScenarioCannotStart() {
  ScenarioDocument doc;
  load(doc);
  LivePanel panel(&doc);
  QVERIFY(startStop(panel)->isEnabled());
  QVERIFY(doc.setValue("client_link.rtt_ms", -5));
  QVERIFY(!doc.isValid());
  QVERIFY(!startStop(panel)->isEnabled());
  QVERIFY(startStop(panel)->toolTip().contains("errors"));
  QVERIFY(panel.message().contains("errors"));
  panel.start();
  QVERIFY(!panel.isRunning());
  QVERIFY(doc.setValue("client_link.rtt_ms", 20));  // fixed: the reason goes
  QVERIFY(startStop(panel)->isEnabled());
  QVERIFY(panel.message().isEmpty());
}

void LiveTest::diagramDrawsTheModesChain() {
  TestbedDiagram diagram;
  DiagramState s;
  s.clientLinkDetail = QStringLiteral("RTT 600 ms, 25/3 Mbit/s");
  s.browserConnections = 6;
  s.bytesDown = 1'234'567;
  diagram.setState(s);
  QStringList titles;
  for (const auto& b : diagram.boxes()) titles << b.title;
  QCOMPARE(titles, QStringList({"Browser", "Client link", "Proxy", "Server link", "Origin"}));
  QVERIFY(diagram.boxes()[1].lines.contains("RTT 600 ms, 25/3 Mbit/s"));
  QVERIFY(diagram.boxes()[1].lines.contains("1.23 MB down"));
  s.proxy = false;
  diagram.setState(s);
  QCOMPARE(diagram.boxes().size(), 4);
  QVERIFY(diagram.sizeHint().height() <= 140);  // fits the main window's strip at 1x
  diagram.resize(900, 140);
  QVERIFY(!diagram.grab().isNull());
  if (qEnvironmentVariableIsSet("SATLINK_LIVE_PNG")) {  // the fullest state, for a person
    s.proxy = true;
    s.serverLinkDetail = QStringLiteral("RTT 1 ms");
    s.browserOpen = 6;
    s.requests = 31;
    s.proxyServerConnections = 2;
    s.proxyServerReuses = 29;
    s.originConnections = 2;
    s.originOpen = 2;
    s.originRequests = 31;
    s.clientHandshakes = 6;
    s.serverHandshakes = 2;
    diagram.setState(s);
    diagram.grab().save(qEnvironmentVariable("SATLINK_LIVE_PNG") + ".diagram.png");
  }
  QCOMPARE(humanBytes(999), QStringLiteral("999 B"));
  QCOMPARE(humanBytes(15'000), QStringLiteral("15.0 kB"));
}

void LiveTest::requestLogIsBounded() {
  LiveRequestModel model;
  model.reset(0);
  std::vector<sim::LiveRequest> rows(700);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].connection = i;
  model.append(rows);
  for (auto& r : rows) r.connection += 700;
  model.append(rows);
  QCOMPARE(model.rowCount(), 1000);
  QCOMPARE(model.request(999).connection, 1399u);  // the newest at the bottom
  QCOMPARE(model.request(0).connection, 400u);
}

QTEST_MAIN(LiveTest)
#include "gui_live_test.moc"
