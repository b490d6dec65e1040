// The workbench window as a user drives it, offscreen: open, edit, run, stop, results, export,
// files. Real engine runs on loopback with short delays (tests/app/tiny-scenario.json).
#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QMenu>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSettings>
#include <QStandardPaths>
#include <QSvgRenderer>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <qcustomplot.h>

#include "json_editor.hpp"
#include "scenario_form.hpp"
#include "live_panel.hpp"
#include "main_window.hpp"
#include "results_view.hpp"
#include "satlink/simulator/har.hpp"
#include "scenario_document.hpp"

using satlink::gui::MainWindow;

namespace {

const QString kTiny = QStringLiteral(SATLINK_SCENARIOS_DIR "/../tests/app/tiny-scenario.json");

// Waits for the run to end (bounded: a tiny run takes well under a second per trial).
bool waitForRun(MainWindow& w, int timeoutMs = 60000) {
  return QTest::qWaitFor([&] { return !w.isRunning(); }, timeoutMs);
}

}  // namespace

class WindowTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
    QSettings().clear();
  }

  void opensWithTheDefaultScenarioReadyToRun() {
    MainWindow w;
    QCOMPARE(QString::fromStdString(w.document()->loaded().scenario.name).isEmpty(), false);
    QVERIFY(w.document()->json().dump().find("600") != std::string::npos);  // geo-600ms
    QVERIFY(w.runAction()->isEnabled());
    QVERIFY(!w.stopAction()->isEnabled());
    QVERIFY(!w.document()->isModified());
  }

  void jsonTabAndDocumentAgree() {
    MainWindow w;
    w.setDiscardAnswerForTests(QMessageBox::Discard);
    QVERIFY(w.openFile(QStringLiteral(SATLINK_SCENARIOS_DIR "/seed-3-images-30ms.json")));
    const auto fromText = nlohmann::json::parse(w.jsonEditor()->editor()->toPlainText().toStdString());
    QCOMPARE(fromText, w.document()->json());
    // An edit of the document shows in the JSON tab...
    QVERIFY(w.document()->setValue("client.connections_per_host", 2));
    QVERIFY(w.jsonEditor()->editor()->toPlainText().contains("\"connections_per_host\": 2"));
    // ...and typing in the JSON tab changes the document.
    QString text = w.jsonEditor()->editor()->toPlainText();
    text.replace("\"connections_per_host\": 2", "\"connections_per_host\": 3");
    w.jsonEditor()->editor()->setPlainText(text);
    w.jsonEditor()->commit();
    QCOMPARE(w.document()->value("client.connections_per_host"), nlohmann::json(3));
    // The form shows it, and typing in the form reaches the JSON tab.
    auto* field = qobject_cast<QLineEdit*>(w.form()->fieldFor("client.connections_per_host"));
    QVERIFY(field);
    QCOMPARE(field->text(), QString("3"));
    field->selectAll();
    QTest::keyClicks(field, "4");
    QTest::keyClick(field, Qt::Key_Return);
    QVERIFY(w.jsonEditor()->editor()->toPlainText().contains("\"connections_per_host\": 4"));
  }

  void anInvalidValueDisablesRunWithTheReason() {
    MainWindow w;
    QVERIFY(w.document()->setValue("client.connections_per_host", 0));
    QVERIFY(!w.runAction()->isEnabled());
    QVERIFY(w.runAction()->toolTip().contains("client.connections_per_host"));
    QVERIFY(w.runAction()->toolTip().contains("must be an integer in 1..64"));
    QVERIFY(!w.runExperiment());
    auto* status = w.findChild<QLabel*>("runStatus");
    QVERIFY(status && status->text().contains("client.connections_per_host"));
    // Broken JSON in the JSON tab: Run says so, the document keeps its last good state.
    QVERIFY(w.document()->setValue("client.connections_per_host", 2));
    w.jsonEditor()->editor()->setPlainText("{ \"satlink_scenario\": 1,");
    w.jsonEditor()->commit();
    QVERIFY(!w.runAction()->isEnabled());
    QVERIFY(w.runAction()->toolTip().contains("does not parse"));
    QCOMPARE(w.document()->value("client.connections_per_host"), nlohmann::json(2));
    QVERIFY(w.jsonEditor()->errorList()->count() > 0);
  }

  void aBrokenScenarioFileOpensWithItsErrors() {
    QTemporaryDir dir;
    const QString path = dir.filePath("bad.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"satlink_scenario": 1, "client_link": {"down": {"delay_ms": "fast"}}, "clinet": {}})");
    f.close();
    MainWindow w;
    w.setDiscardAnswerForTests(QMessageBox::Discard);
    QVERIFY(w.openFile(path));
    QCOMPARE(w.document()->errors().size(), std::size_t{2});
    QVERIFY(!w.runAction()->isEnabled());
    QVERIFY(w.jsonEditor()->errorList()->count() >= 2);
    // Not JSON at all: refused with the reason, the previous document stays.
    f.open(QIODevice::WriteOnly);
    f.write("{\"satlink_scenario\": 1,");
    f.close();
    QVERIFY(!w.openFile(path));
    QCOMPARE(w.document()->errors().size(), std::size_t{2});
  }

  void runsAndShowsEveryResult() {
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    QVERIFY(w.openFile(kTiny));
    QVERIFY(w.runExperiment());
    QVERIFY(w.isRunning());
    QVERIFY(!w.runAction()->isEnabled());
    QVERIFY(w.stopAction()->isEnabled());
    QVERIFY(waitForRun(w));
    QCOMPARE(w.progressBar()->value(), w.progressBar()->maximum());
    QCOMPARE(w.progressBar()->maximum(), 4);
    QCOMPARE(w.results()->table()->model()->rowCount(), 4);
    for (const QString& name : w.results()->plotNames()) {
      QCustomPlot* plot = w.results()->plot(name);
      QVERIFY2(plot->plottableCount() > 0, qPrintable(name));
      bool hasData = false;
      for (int i = 0; i < plot->plottableCount(); ++i)
        hasData |= plot->plottable(i)->interface1D() && plot->plottable(i)->interface1D()->dataCount() > 0;
      QVERIFY2(hasData, qPrintable(name + " has no data"));
    }
    QVERIFY(w.results()->events()->model()->rowCount() > 10);
    // The answer card: the engine's sentences with numbers (tiny runs keep-alive and close).
    QVERIFY2(w.answerText().contains("Keep-alive on both sides"), qPrintable(w.answerText()));
    QVERIFY(w.answerText().contains(QRegularExpression("\\d+ ms")));
    QVERIFY(w.diagram() != nullptr);
    QVERIFY(w.runAction()->isEnabled());
    // The screenshot of the window after a run (README material).
    const QString shot = QStringLiteral(SATLINK_BUILD_DIR "/workbench.png");
    QCoreApplication::sendPostedEvents();  // the layout settles on the final answer text
    QVERIFY(w.grab().save(shot));
    QVERIFY(QImage(shot).width() >= 1280);
  }

  void stopEndsARunWithinASecond() {
    MainWindow w;
    QVERIFY(w.openFile(kTiny));
    // Two seconds each way: every trial is mid-load when Stop comes.
    QVERIFY(w.document()->setValue("client_link.rtt_ms", 4000));
    QVERIFY(w.runExperiment());
    QTest::qWait(300);  // let the trials start: the stop must interrupt running loads
    const auto before = std::chrono::steady_clock::now();
    w.stopExperiment();
    QVERIFY(waitForRun(w, 5000));
    const auto took = std::chrono::steady_clock::now() - before;
    QVERIFY2(took < std::chrono::seconds(1), qPrintable(QString::number(
        std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) + " ms"));
    QVERIFY(w.runAction()->isEnabled());  // usable again
    QVERIFY(w.document()->setValue("client_link.rtt_ms", 20));
    QVERIFY(w.runExperiment());
    QVERIFY(waitForRun(w));
    QCOMPARE(w.results()->table()->model()->rowCount(), 4);
  }

  void exportsEveryFormat() {
    MainWindow w;
    QVERIFY(w.openFile(kTiny));
    QTemporaryDir dir;
    QVERIFY(!w.exportEverything(dir.path()).isEmpty());  // nothing ran yet: says so
    QVERIFY(w.runExperiment());
    QVERIFY(waitForRun(w));
    QCOMPARE(w.exportEverything(dir.filePath("all")), QString());
    for (const char* f : {"results.csv", "summary.csv", "requests.csv", "results.json", "events.jsonl",
                          "charts/comparison.png", "charts/comparison.svg", "charts/comparison.pdf"})
      QVERIFY2(QFile::exists(dir.filePath(QStringLiteral("all/") + f)), f);
    for (const QString& chart : w.results()->plotNames()) {
      for (const QString suffix : {"png", "svg", "pdf"}) {
        const QString path = dir.filePath(chart + "." + suffix);
        QCOMPARE(w.exportChart(chart, path), QString());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray head = file.read(8);
        if (suffix == "png") {
          QVERIFY(head.startsWith("\x89PNG"));
          QVERIFY(QImage(path).width() >= 1600);
        }
        if (suffix == "pdf") QVERIFY(head.startsWith("%PDF"));
        if (suffix == "svg") QVERIFY(QSvgRenderer(path).isValid());
      }
    }
    QCOMPARE(w.exportResults(dir.filePath("csv"), "csv"), QString());
    QFile csv(dir.filePath("csv/results.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QVERIFY(csv.readLine().startsWith("scenario,trial,mode,point,repetition,seed,error,page_load_ms,"));
    QCOMPARE(w.exportResults(dir.filePath("har"), "har"), QString());
    const QStringList hars = QDir(dir.filePath("har/har")).entryList({"*.har"});
    QCOMPARE(hars.size(), 4);
    std::ifstream in(QDir(dir.filePath("har/har")).filePath(hars.front()).toStdString());
    const auto har = nlohmann::json::parse(in);
    const auto problems = satlink::simulator::validate_har(har);
    QVERIFY2(problems.empty(), problems.empty() ? "" : problems.front().c_str());
    // A failed export says why.
    QVERIFY(w.exportChart("comparison", dir.filePath("chart.gif")).contains(".png, .svg or .pdf"));
    QVERIFY(!w.exportResults("/proc/satlink-cannot-write", "csv").isEmpty());
  }

  void copiesTheModeAsHaproxyAndNginxConfig() {
    MainWindow w;
    const QString haproxy = w.configSnippet("HAProxy", satlink::simulator::Mode::server_close);
    QVERIFY(haproxy.contains("option http-server-close"));
    QVERIFY(haproxy.contains("timeout http-keep-alive"));
    const QString nginx = w.configSnippet("nginx", satlink::simulator::Mode::keep_alive);
    QVERIFY(nginx.contains("proxy_http_version 1.1"));
    QVERIFY(nginx.contains("keepalive "));
    // The Edit menu's action puts the snippet on the clipboard.
    auto* menu = w.findChild<QMenu*>("copyHAProxy");
    QVERIFY(menu);
    QAction* copy = nullptr;
    for (QAction* a : menu->actions())
      if (a->text() == "close") copy = a;
    QVERIFY(copy);
    copy->trigger();
    QVERIFY(QGuiApplication::clipboard()->text().contains("option httpclose"));
  }

  void startsAndStopsTheLiveTestbedFromTheRunMenu() {
    MainWindow w;
    QVERIFY(w.openFile(kTiny));
    QAction* start = nullptr;
    QAction* stop = nullptr;
    for (QAction* a : w.findChildren<QAction*>()) {
      if (a->text() == "Start &live testbed") start = a;
      if (a->text() == "Stop li&ve testbed") stop = a;
    }
    QVERIFY(start && stop);
    QVERIFY(!stop->isEnabled());
    start->trigger();
    QVERIFY(w.livePanel()->isRunning());
    QVERIFY(!start->isEnabled());
    QVERIFY(stop->isEnabled());
    stop->trigger();
    QVERIFY(!w.livePanel()->isRunning());
    QVERIFY(start->isEnabled());
  }

  void savesAtomicallyAndTracksChanges() {
    QTemporaryDir dir;
    MainWindow w;
    w.setDiscardAnswerForTests(QMessageBox::Cancel);
    QVERIFY(w.openFile(kTiny));
    QVERIFY(w.document()->setValue("client.users", 2));
    QVERIFY(w.document()->isModified());
    QVERIFY(w.windowTitle().contains("tiny-scenario.json"));
    // Cancel at the unsaved-changes prompt keeps the document.
    QVERIFY(!w.close());
    const QString path = dir.filePath("saved.json");
    QVERIFY(w.saveTo(path));
    QVERIFY(!w.document()->isModified());
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(nlohmann::json::parse(f.readAll().toStdString()), w.document()->json());
    QVERIFY(QSettings().value("files/recent").toStringList().contains(QFileInfo(path).absoluteFilePath()));
    QVERIFY(!w.saveTo(QStringLiteral("/proc/satlink-cannot-write/x.json")));
  }
};

QTEST_MAIN(WindowTest)
#include "gui_window_test.moc"
