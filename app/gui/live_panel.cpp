// The GUI thread only starts, stops and polls: the testbed serves on its own thread, and a
// poll reads just the events logged since the previous one (LiveTestbed counts incrementally).
#include "live_panel.hpp"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDesktopServices>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QGroupBox>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QUrl>
#include <tuple>
#include <QVBoxLayout>

#include "live_chart.hpp"
#include "live_link_controls.hpp"
#include "live_request_model.hpp"
#include "scenario_document.hpp"
#include "testbed_diagram.hpp"

namespace satlink::gui {

namespace {

QString modeLabel(sim::Mode m) {
  switch (m) {
    case sim::Mode::no_proxy: return QObject::tr("no proxy (browser → links → origin)");
    case sim::Mode::keep_alive: return QObject::tr("keep-alive both sides");
    case sim::Mode::server_close: return QObject::tr("server-close (client kept, origin closed)");
    case sim::Mode::close: return QObject::tr("close both sides (httpclose)");
    case sim::Mode::client_close: return QObject::tr("client-close (origin kept)");
  }
  return {};
}

}  // namespace

LivePanel::LivePanel(ScenarioDocument* document, QWidget* parent)
    : QWidget(parent),
      document_(document),
      testbed_(std::make_unique<sim::LiveTestbed>()),
      pollTimer_(new QTimer(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(buildControls());
  layout->addWidget(buildRunningInfo());
  diagram_ = new TestbedDiagram;
  layout->addWidget(diagram_);

  // Both links at once, stacked: a change to one is judged against the other.
  auto* links = new QWidget;
  auto* linksLayout = new QVBoxLayout(links);
  linksLayout->setContentsMargins(0, 0, 0, 0);
  clientLink_ = new LinkControls(QStringLiteral("clientLink"));
  serverLink_ = new LinkControls(QStringLiteral("serverLink"));
  for (auto [controls, side, title] :
       {std::tuple{clientLink_, sim::LinkSide::client, tr("Client link (browser side)")},
        std::tuple{serverLink_, sim::LinkSide::server, tr("Server link (origin side)")}}) {
    auto* group = new QGroupBox(title);
    group->setToolTip(tr("Changes act on the running testbed at once (bytes already on the way "
                         "keep their timing); the scenario is not edited"));
    (new QVBoxLayout(group))->addWidget(controls);
    linksLayout->addWidget(group);
    controls->setEnabled(false);
    connect(controls, &LinkControls::configChanged, this,
            [this, s = side](const sim::LinkConfig& c) { applyLink(s, c); });
  }
  linksLayout->addStretch(1);
  auto* linksScroll = new QScrollArea;
  linksScroll->setWidget(links);
  linksScroll->setWidgetResizable(true);
  linksScroll->setFrameShape(QFrame::NoFrame);
  linksScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  // Wide enough for the sliders' content: the scroll area is for height only.
  linksScroll->setMinimumWidth(links->minimumSizeHint().width() +
                               style()->pixelMetric(QStyle::PM_ScrollBarExtent) +
                               fontMetrics().averageCharWidth() * 4);

  auto* right = new QSplitter(Qt::Vertical);
  chart_ = new LiveChart;
  chart_->setObjectName(QStringLiteral("liveChart"));
  right->addWidget(chart_);
  requests_ = new LiveRequestModel(this);
  requestView_ = new QTableView;
  requestView_->setObjectName(QStringLiteral("requestLog"));
  requestView_->setModel(requests_);
  requestView_->setSelectionBehavior(QAbstractItemView::SelectRows);
  requestView_->verticalHeader()->setVisible(false);
  // Dense rows, as a log reads: the style's default row is for editable tables.
  requestView_->verticalHeader()->setDefaultSectionSize(fontMetrics().lineSpacing() * 3 / 2);
  requestView_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  requestView_->horizontalHeader()->setStretchLastSection(true);
  requestView_->setWordWrap(false);
  right->addWidget(requestView_);
  right->setStretchFactor(0, 3);
  right->setStretchFactor(1, 2);

  auto* bottom = new QSplitter(Qt::Horizontal);
  bottom->addWidget(linksScroll);
  bottom->addWidget(right);
  bottom->setStretchFactor(0, 0);
  bottom->setStretchFactor(1, 1);
  layout->addWidget(bottom, 1);

  pollTimer_->setInterval(kPollMs);
  connect(pollTimer_, &QTimer::timeout, this, &LivePanel::poll);
  connect(document_, &ScenarioDocument::changed, this, &LivePanel::updateStartButton);
  setRunning(false);
}

LivePanel::~LivePanel() {
  pollTimer_->stop();
  testbed_->stop();
}

QWidget* LivePanel::buildControls() {
  auto* box = new QWidget;
  auto* row = new QHBoxLayout(box);
  row->setContentsMargins(0, 0, 0, 0);
  mode_ = new QComboBox;
  mode_->setObjectName(QStringLiteral("mode"));
  for (sim::Mode m : sim::all_modes())
    mode_->addItem(modeLabel(m), QString::fromStdString(std::string(sim::to_string(m))));
  mode_->setCurrentIndex(mode_->findData(QStringLiteral("keep-alive")));
  address_ = new QLineEdit(QStringLiteral("127.0.0.1"));
  address_->setObjectName(QStringLiteral("listenAddress"));
  address_->setToolTip(tr("Numeric IPv4 or IPv6 address the browser connects to"));
  address_->setMaximumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0000:0000:0000::0000")));
  port_ = new QSpinBox;
  port_->setObjectName(QStringLiteral("listenPort"));
  port_->setRange(0, 65535);
  port_->setSpecialValueText(tr("any"));
  port_->setToolTip(tr("0 (any): a free port is chosen"));
  startStop_ = new QPushButton(tr("Start"));
  startStop_->setObjectName(QStringLiteral("startStop"));
  connect(startStop_, &QPushButton::clicked, this, [this] { isRunning() ? stop() : start(); });
  connect(address_, &QLineEdit::textChanged, this, &LivePanel::updateAddressWarning);

  row->addWidget(new QLabel(tr("Mode")));
  row->addWidget(mode_);
  row->addSpacing(fontMetrics().averageCharWidth() * 2);
  row->addWidget(new QLabel(tr("Listen on")));
  row->addWidget(address_);
  row->addWidget(new QLabel(tr("Port")));
  row->addWidget(port_);
  row->addStretch(1);
  row->addWidget(startStop_);

  auto* column = new QWidget;
  auto* v = new QVBoxLayout(column);
  v->setContentsMargins(0, 0, 0, 0);
  v->addWidget(box);
  addressWarning_ = new QLabel;
  addressWarning_->setObjectName(QStringLiteral("addressWarning"));
  addressWarning_->setWordWrap(true);
  addressWarning_->setStyleSheet(QStringLiteral(
      "QLabel { background: rgba(255, 170, 0, 60); border: 1px solid rgba(200, 120, 0, 160);"
      " border-radius: 4px; padding: 4px; }"));
  addressWarning_->setVisible(false);
  message_ = new QLabel;
  message_->setObjectName(QStringLiteral("message"));
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_->setVisible(false);
  v->addWidget(addressWarning_);
  v->addWidget(message_);
  return column;
}

QWidget* LivePanel::buildRunningInfo() {
  auto* box = new QWidget;
  auto* form = new QFormLayout(box);
  form->setContentsMargins(0, 0, 0, 0);
  auto* urlRow = new QHBoxLayout;
  url_ = new QLineEdit;
  url_->setObjectName(QStringLiteral("url"));
  url_->setReadOnly(true);
  url_->setPlaceholderText(tr("not running"));
  copyUrl_ = new QPushButton(tr("Copy URL"));
  openUrl_ = new QPushButton(tr("Open in browser"));
  connect(copyUrl_, &QPushButton::clicked, this,
          [this] { QApplication::clipboard()->setText(url_->text()); });
  connect(openUrl_, &QPushButton::clicked, this,
          [this] { QDesktopServices::openUrl(QUrl(url_->text())); });
  urlRow->addWidget(url_, 1);
  urlRow->addWidget(copyUrl_);
  urlRow->addWidget(openUrl_);
  form->addRow(tr("URL"), urlRow);
  chain_ = new QLabel;
  chain_->setObjectName(QStringLiteral("chain"));
  chain_->setWordWrap(true);
  chain_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow(tr("Chain"), chain_);
  return box;
}

LinkControls* LivePanel::linkControls(sim::LinkSide side) const {
  return side == sim::LinkSide::client ? clientLink_ : serverLink_;
}

bool LivePanel::isRunning() const { return testbed_->running(); }
QString LivePanel::url() const { return QString::fromStdString(testbed_->url()); }
QString LivePanel::message() const { return message_->isHidden() ? QString() : message_->text(); }
bool LivePanel::addressWarningVisible() const { return !addressWarning_->isHidden(); }

void LivePanel::start() {
  if (isRunning()) return;
  if (!document_->isValid()) {
    updateStartButton();  // shows why
    return;
  }
  const QString address = address_->text().trimmed();
  if (sim::classify_address(address.toStdString()) == sim::AddressKind::invalid) {
    showMessage(tr("Not started: '%1' is not a numeric IPv4 or IPv6 address (such as 127.0.0.1 "
                   "or ::1).")
                    .arg(address),
                true);
    return;
  }
  sim::Mode mode = sim::Mode::keep_alive;
  sim::parse(mode_->currentData().toString().toStdString(), mode);
  sim::LiveOptions options;
  options.listen_address = address.toStdString();
  options.listen_port = static_cast<std::uint16_t>(port_->value());
  try {
    testbed_->start(document_->loaded().scenario, mode, options);
  } catch (const std::exception& e) {
    showMessage(tr("Not started: %1").arg(QString::fromStdString(e.what())), true);
    return;
  }
  runningMode_ = mode;
  startNs_ = sim::now_ns();
  seenRequests_ = 0;
  requests_->reset(startNs_);
  chart_->reset();
  clientLink_->setConfig(testbed_->link_config(sim::LinkSide::client));
  serverLink_->setConfig(testbed_->link_config(sim::LinkSide::server));
  url_->setText(url());
  QStringList hops{tr("browser")};
  for (const sim::LiveHop& h : testbed_->chain()) {
    const QString host = QString::fromStdString(h.address);
    hops << QStringLiteral("%1 %2:%3").arg(QString::fromStdString(h.name),
                                          host.contains(':') ? "[" + host + "]" : host)
                .arg(h.port);
  }
  chain_->setText(hops.join(QStringLiteral(" → ")));
  showMessage({}, false);
  setRunning(true);
  poll();
}

void LivePanel::stop() {
  if (!isRunning()) return;
  pollTimer_->stop();
  poll();  // the last counters and rows stay on show
  testbed_->stop();
  setRunning(false);
}

void LivePanel::setRunning(bool running) {
  mode_->setEnabled(!running);
  address_->setEnabled(!running);
  port_->setEnabled(!running);
  copyUrl_->setEnabled(running);
  openUrl_->setEnabled(running);
  clientLink_->setEnabled(running);
  serverLink_->setEnabled(running);
  if (!running) {
    url_->clear();
    chain_->setText(tr("stopped: no socket is listening"));
  }
  if (running) pollTimer_->start();
  updateStartButton();
  updateAddressWarning();
  emit runningChanged(running);
}

void LivePanel::updateStartButton() {
  const bool running = isRunning();
  startStop_->setText(running ? tr("Stop") : tr("Start"));
  const bool canStart = running || document_->isValid();
  const QString reason =
      tr("The scenario has errors: fix them in the form or the JSON tab to start.");
  startStop_->setEnabled(canStart);
  startStop_->setToolTip(canStart ? QString() : reason);
  // The reason in plain sight too, and gone once the scenario is fixed.
  if (!canStart) {
    showMessage(reason, true);
  } else if (message_->text() == reason) {
    showMessage({}, false);
  }
}

void LivePanel::updateAddressWarning() {
  const QString address = address_->text().trimmed();
  switch (sim::classify_address(address.toStdString())) {
    case sim::AddressKind::loopback:
      addressWarning_->setVisible(false);
      return;
    case sim::AddressKind::invalid:
      addressWarning_->setText(
          tr("'%1' is not a numeric IPv4 or IPv6 address: Start will refuse it.").arg(address));
      break;
    case sim::AddressKind::other:
      addressWarning_->setText(
          tr("Listening on %1: anyone who can reach this address can use the testbed and the "
             "origin behind it. There is no authentication.")
              .arg(address));
      break;
  }
  addressWarning_->setVisible(true);
}

void LivePanel::showMessage(const QString& text, bool error) {
  message_->setText(text);
  message_->setStyleSheet(error ? QStringLiteral("QLabel { color: #c0392b; }") : QString());
  message_->setVisible(!text.isEmpty());
}

void LivePanel::applyLink(sim::LinkSide side, const sim::LinkConfig& config) {
  if (!isRunning()) return;
  try {
    testbed_->set_link(side, config);
  } catch (const std::exception& e) {
    showMessage(QString::fromStdString(e.what()), true);
    return;
  }
  poll();  // the diagram's detail line follows at once
}

void LivePanel::poll() {
  const sim::LiveCounters c = testbed_->counters();
  DiagramState s;
  s.proxy = sim::sides(runningMode_).proxy;
  s.clientLinkDetail = linkDetail(testbed_->link_config(sim::LinkSide::client));
  s.serverLinkDetail = linkDetail(testbed_->link_config(sim::LinkSide::server));
  s.browserConnections = c.client_link_connections;
  s.browserOpen = c.client_link_open;
  s.proxyServerConnections = c.proxy_server_connections;
  s.proxyServerReuses = c.proxy_server_reuses;
  s.originConnections = c.origin_connections;
  s.originOpen = c.origin_open_connections;
  s.originRequests = c.origin_requests;
  s.requests = c.requests;
  s.bytesDown = c.response_bytes;
  s.clientHandshakes = c.client_tls_handshakes;
  s.serverHandshakes = c.server_tls_handshakes;
  if (!isRunning()) {  // stopped: keep the last details (the testbed no longer has links)
    s.clientLinkDetail = diagram_->state().clientLinkDetail;
    s.serverLinkDetail = diagram_->state().serverLinkDetail;
  }
  diagram_->setState(s);

  const sim::LiveRequestPage page = testbed_->requests_since(seenRequests_);
  seenRequests_ = page.total;
  if (!page.rows.empty()) {
    QScrollBar* bar = requestView_->verticalScrollBar();
    const bool atBottom = bar->value() >= bar->maximum() - 2;  // follow unless scrolled back
    requests_->append(page.rows);
    if (atBottom) requestView_->scrollToBottom();
  }
  if (isRunning()) chart_->addSample((sim::now_ns() - startNs_) / 1e9, c);
}

}  // namespace satlink::gui
