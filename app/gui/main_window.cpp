#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QProgressBar>
#include <QScrollArea>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include "json_editor.hpp"
#include "live_link_controls.hpp"
#include "satlink/simulator/answer.hpp"
#include "satlink/simulator/config_snippet.hpp"
#include "live_panel.hpp"
#include "results_view.hpp"
#include "run_controller.hpp"
#include "scenario_document.hpp"
#include "scenario_form.hpp"
#include "testbed_diagram.hpp"

// The resources live in the satlink_gui static library: a static library's resource
// initialiser is dropped by the linker unless something references it (outside any namespace).
static void initResources() { Q_INIT_RESOURCE(satlink); }

namespace satlink::gui {

namespace {

QString humanTime(double s) {
  if (s < 0) return QObject::tr("estimating...");
  const int total = static_cast<int>(s + 0.5);
  if (total < 60) return QObject::tr("%1 s left").arg(total);
  return QObject::tr("%1:%2 left").arg(total / 60).arg(total % 60, 2, 10, QLatin1Char('0'));
}

// The diagram's link line, as the live testbed writes it, with the preset's name in front.
QString presetAndLink(const sim::LinkSpec& link) {
  return (link.preset.empty() ? QString() : QString::fromStdString(link.preset) + ": ") +
         satlink::gui::linkDetail(link.config);
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), document_(new ScenarioDocument(this)), run_(new RunController(this)) {
  initResources();
  setWindowIcon(QIcon(QStringLiteral(":/icons/satlink.svg")));
  setAcceptDrops(true);
  buildLayout();
  buildActions();
  // Redraws are coalesced: snapshots arrive at most every 250 ms, charts redraw at most twice a
  // second, so a burst of finished trials never stalls the window.
  redraw_ = new QTimer(this);
  redraw_->setSingleShot(true);
  redraw_->setInterval(500);
  connect(redraw_, &QTimer::timeout, this, &MainWindow::showSnapshot);
  connect(run_, &RunController::progressed, this, [this] {
    if (!redraw_->isActive()) redraw_->start();
    const RunSnapshot s = run_->snapshot();
    progress_->setMaximum(static_cast<int>(s.total));
    progress_->setValue(static_cast<int>(s.done));
    progressLabel_->setText(tr("%1/%2 trials%3, %4")
                                .arg(s.done)
                                .arg(s.total)
                                .arg(s.failed ? tr(" (%1 failed)").arg(s.failed) : QString())
                                .arg(humanTime(s.remaining_s)));
  });
  connect(run_, &RunController::finished, this, &MainWindow::runFinished);
  connect(results_, &ResultsView::pointChanged, this, &MainWindow::updateAnswer);
  connect(document_, &ScenarioDocument::changed, this, &MainWindow::updateRunState);
  connect(document_, &ScenarioDocument::modifiedChanged, this, &MainWindow::updateTitle);
  connect(document_, &ScenarioDocument::filePathChanged, this, &MainWindow::updateTitle);
  readSettings();
  openExample(QStringLiteral(":/scenarios/geo-600ms.json"));
}

MainWindow::~MainWindow() = default;

void MainWindow::buildLayout() {
  form_ = new ScenarioForm(document_);  // scrolls itself, its error list pinned on top
  json_ = new JsonEditor(document_);
  auto* scenarioTabs = new QTabWidget;
  scenarioTabs->addTab(form_, tr("Form"));
  scenarioTabs->addTab(json_, tr("JSON"));
  auto* dock = new QDockWidget(tr("Scenario"), this);
  dock->setObjectName(QStringLiteral("scenarioDock"));
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  dock->setWidget(scenarioTabs);
  dock->setMinimumWidth(360);
  addDockWidget(Qt::LeftDockWidgetArea, dock);

  diagram_ = new TestbedDiagram;
  answer_ = new QLabel;
  answer_->setObjectName(QStringLiteral("answerCard"));
  answer_->setWordWrap(true);
  answer_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  answer_->setFrameShape(QFrame::StyledPanel);
  answer_->setMargin(8);
  answer_->setAutoFillBackground(true);
  answer_->setBackgroundRole(QPalette::AlternateBase);
  answer_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
  answer_->setMinimumHeight(answer_->fontMetrics().lineSpacing() * 3 + 16);
  results_ = new ResultsView;
  live_ = new LivePanel(document_);
  rightTabs_ = new QTabWidget;
  auto* resultsPage = new QWidget;
  auto* resultsLayout = new QVBoxLayout(resultsPage);
  resultsLayout->setContentsMargins(0, 0, 0, 0);
  // The answer card scrolls beyond five lines, so the charts keep their room at 1280x800.
  auto* answerScroll = new QScrollArea;
  answerScroll->setWidget(answer_);
  answerScroll->setWidgetResizable(true);
  answerScroll->setFrameShape(QFrame::NoFrame);
  answerScroll->setMaximumHeight(answer_->fontMetrics().lineSpacing() * 5 + 24);
  resultsLayout->addWidget(answerScroll);
  resultsLayout->addWidget(results_, 1);
  rightTabs_->addTab(resultsPage, tr("Results"));
  rightTabs_->addTab(live_, tr("Live testbed"));
  auto* central = new QWidget;
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(diagram_);
  layout->addWidget(rightTabs_, 1);
  setCentralWidget(central);

  progress_ = new QProgressBar;
  progress_->setMaximumWidth(240);
  progress_->setTextVisible(true);
  progressLabel_ = new QLabel;
  progressLabel_->setMinimumWidth(
      progressLabel_->fontMetrics().horizontalAdvance(QStringLiteral("9999/9999 trials (999 failed), 99:99 left")));
  statusLabel_ = new QLabel;
  statusLabel_->setObjectName(QStringLiteral("runStatus"));
  statusBar()->addWidget(statusLabel_, 1);
  statusBar()->addPermanentWidget(progressLabel_);
  statusBar()->addPermanentWidget(progress_);
}

void MainWindow::buildActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open..."), QKeySequence::Open, this, [this] {
    if (!maybeDiscard()) return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open scenario"), lastDir_,
                                                      tr("Scenarios (*.json);;All files (*)"));
    if (!path.isEmpty()) openFile(path);
  });
  QMenu* examples = file->addMenu(tr("&Examples"));
  for (const QFileInfo& info : QDir(QStringLiteral(":/scenarios")).entryInfoList({"*.json"}, QDir::Files, QDir::Name))
    examples->addAction(info.completeBaseName(), this, [this, path = info.filePath()] {
      if (maybeDiscard()) openExample(path);
    });
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  saveAction_ = file->addAction(tr("&Save"), QKeySequence::Save, this, [this] {
    if (document_->filePath().isEmpty()) {
      const QString path = QFileDialog::getSaveFileName(this, tr("Save scenario"), lastDir_,
                                                        tr("Scenarios (*.json)"));
      if (!path.isEmpty()) saveTo(path);
    } else {
      saveTo(document_->filePath());
    }
  });
  file->addAction(tr("Save &As..."), QKeySequence::SaveAs, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save scenario as"), lastDir_,
                                                      tr("Scenarios (*.json)"));
    if (!path.isEmpty()) saveTo(path);
  });
  file->addSeparator();
  file->addAction(tr("Export &everything..."), QKeySequence(tr("Ctrl+E")), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export everything to"), lastDir_);
    if (dir.isEmpty()) return;
    const QString error = exportEverything(dir);
    if (!error.isEmpty()) showError(tr("Export failed"), error);
    else statusLabel_->setText(tr("Exported to %1").arg(dir));
  });
  QMenu* exportResults = file->addMenu(tr("Export &results"));
  for (const QString& format : {QStringLiteral("csv"), QStringLiteral("json"), QStringLiteral("har")})
    exportResults->addAction(format.toUpper() + "...", this, [this, format] {
      const QString dir = QFileDialog::getExistingDirectory(this, tr("Export %1 to").arg(format.toUpper()), lastDir_);
      if (dir.isEmpty()) return;
      const QString error = this->exportResults(dir, format);
      if (!error.isEmpty()) showError(tr("Export failed"), error);
    });
  file->addAction(tr("Export current &chart..."), this, [this] {
    const QString chart = results_->currentPlotName();
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export chart"), QDir(lastDir_).filePath(chart + ".png"),
        tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
    if (path.isEmpty()) return;
    const QString error = exportChart(chart, path);
    if (!error.isEmpty()) showError(tr("Export failed"), error);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  edit->addAction(tr("&Copy table"), QKeySequence::Copy, this, [this] { results_->copyTable(); });
  for (const QString& server : {QStringLiteral("HAProxy"), QStringLiteral("nginx")}) {
    QMenu* copy = edit->addMenu(tr("Copy as %1 config").arg(server));
    copy->setObjectName("copy" + server);
    for (sim::Mode m : sim::all_modes()) {
      if (m == sim::Mode::no_proxy) continue;
      copy->addAction(QString::fromUtf8(std::string(sim::to_string(m)).c_str()), this, [this, server, m] {
        QApplication::clipboard()->setText(configSnippet(server, m));
        statusLabel_->setText(tr("Copied the %1 configuration to the clipboard").arg(server));
      });
    }
  }

  QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
  runAction_ = runMenu->addAction(QIcon::fromTheme("media-playback-start"), tr("&Run"), QKeySequence(Qt::Key_F5),
                                  this, [this] { runExperiment(); });
  stopAction_ = runMenu->addAction(QIcon::fromTheme("media-playback-stop"), tr("&Stop"),
                                   QKeySequence(Qt::SHIFT | Qt::Key_F5), this, [this] { stopExperiment(); });
  runMenu->addSeparator();
  QAction* startLive = runMenu->addAction(tr("Start &live testbed"), QKeySequence(tr("Ctrl+L")), this, [this] {
    rightTabs_->setCurrentWidget(live_);
    live_->start();
  });
  QAction* stopLive = runMenu->addAction(tr("Stop li&ve testbed"), this, [this] { live_->stop(); });
  stopLive->setEnabled(false);
  connect(live_, &LivePanel::runningChanged, this, [startLive, stopLive](bool running) {
    startLive->setEnabled(!running);
    stopLive->setEnabled(running);
  });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About Satlink Workbench"), this, &MainWindow::about);
  help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);

  QToolBar* bar = addToolBar(tr("Main"));
  bar->setObjectName(QStringLiteral("mainToolbar"));
  bar->addAction(runAction_);
  bar->addAction(stopAction_);
  bar->addSeparator();
  bar->addAction(saveAction_);
  rebuildRecentMenu();
}

bool MainWindow::runExperiment() {
  if (!runBlockedReason().isEmpty()) return false;
  sim::RunOptions options;
  options.keep_events = true;  // the Events tab
  if (!run_->start(document_->loaded().scenario, options)) return false;
  results_->clear();
  answer_->setText(tr("Running..."));
  progress_->setValue(0);
  progress_->setMaximum(static_cast<int>(run_->plan().trials.size()));
  updateRunState();
  statusLabel_->setText(tr("Running %1 trials").arg(run_->plan().trials.size()));
  return true;
}

void MainWindow::stopExperiment() {
  if (!run_->isRunning()) return;
  run_->cancel();
  statusLabel_->setText(tr("Stopping..."));
}

bool MainWindow::isRunning() const { return run_->isRunning(); }

QString MainWindow::runBlockedReason() const {
  if (run_->isRunning()) return tr("A run is going: stop it first.");
  if (!document_->textError().isEmpty()) return tr("The JSON tab does not parse: %1").arg(document_->textError());
  if (!document_->errors().empty()) {
    const auto& e = document_->errors().front();
    return tr("The scenario has %n error(s), first %1: %2", nullptr, static_cast<int>(document_->errors().size()))
        .arg(e.path.empty() ? tr("(root)") : QString::fromStdString(e.path), QString::fromStdString(e.reason));
  }
  return {};
}

void MainWindow::updateRunState() {
  const QString reason = runBlockedReason();
  runAction_->setEnabled(reason.isEmpty());
  runAction_->setToolTip(reason.isEmpty() ? tr("Run the experiment (F5)") : tr("Run is disabled: %1").arg(reason));
  stopAction_->setEnabled(run_->isRunning());
  if (!run_->isRunning()) statusLabel_->setText(reason.isEmpty() ? tr("Ready") : tr("Run is disabled: %1").arg(reason));
  if (!run_->isRunning() && document_->isValid()) {
    const auto& s = document_->loaded().scenario;
    DiagramState d = diagram_->state();
    d.clientLinkDetail = presetAndLink(s.client_link);
    d.serverLinkDetail = presetAndLink(s.server_link);
    diagram_->setState(d);
  }
}

void MainWindow::showSnapshot() {
  const RunSnapshot s = run_->snapshot();
  results_->setResults(run_->scenario(), run_->plan(), s.results);
  // The diagram: totals over the trials so far.
  DiagramState d;
  d.clientLinkDetail = presetAndLink(run_->scenario().client_link);
  d.serverLinkDetail = presetAndLink(run_->scenario().server_link);
  for (const auto& r : s.results) {
    const auto& m = r.metrics;
    d.browserConnections += m.client_connections;
    d.proxyServerConnections += m.proxy_server_connections;
    d.originConnections += m.origin_connections;
    d.requests += m.requests;
    d.bytesDown += m.bytes_down;
    d.clientHandshakes += m.client_tls_handshakes;
    d.serverHandshakes += m.server_tls_handshakes;
  }
  diagram_->setState(d);
  updateAnswer();
}

void MainWindow::runFinished(bool cancelled) {
  redraw_->stop();
  showSnapshot();
  const RunSnapshot s = run_->snapshot();
  progress_->setValue(static_cast<int>(s.done));
  progressLabel_->setText(tr("%1/%2 trials%3").arg(s.done).arg(s.total).arg(
      s.failed ? tr(" (%1 failed)").arg(s.failed) : QString()));
  updateRunState();
  statusLabel_->setText(cancelled ? tr("Stopped: %1 of %2 trials ran").arg(s.done).arg(s.total)
                                  : tr("Done in %1 s").arg(s.elapsed_s, 0, 'f', 1));
}

QString MainWindow::answerText() const { return answerPlain_; }

// The answer card: the engine's plain-language answer (answer.hpp) for the sweep point the
// comparison shows; the measured findings first, the prediction beside them, then caveats.
void MainWindow::updateAnswer() {
  if (results_->results().empty()) {
    answer_->setText(run_->isRunning() ? tr("Running...") : tr("Run the experiment (F5) for the answer."));
    return;
  }
  const sim::Answer a = sim::answer(results_->plan(), results_->results(), results_->currentPoint());
  auto paragraph = [](const std::vector<std::string>& sentences) {
    QStringList parts;
    for (const auto& s : sentences) parts << QString::fromStdString(s).toHtmlEscaped();
    return parts.join(' ');
  };
  QString html;
  if (!a.point.empty()) html += "<b>" + QString::fromStdString(a.point).toHtmlEscaped() + "</b><br>";
  html += paragraph(a.findings);
  if (!a.predicted.empty()) html += "<br><i>" + tr("Predicted: ") + paragraph(a.predicted) + "</i>";
  if (!a.caveats.empty())
    html += "<br><span style='color:#a05a00'>" + paragraph(a.caveats) + "</span>";
  if (run_->isRunning()) html += "<br>" + tr("(so far: the run is going)");
  answer_->setText(html);
  answerPlain_ = QString::fromStdString(sim::to_text(a));
}

QString MainWindow::configSnippet(const QString& server, sim::Mode mode) const {
  const sim::Scenario& s = document_->loaded().scenario;
  return QString::fromStdString(server == QLatin1String("nginx") ? sim::nginx_config(s, mode)
                                                                 : sim::haproxy_config(s, mode));
}


}  // namespace satlink::gui
