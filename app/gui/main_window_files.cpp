// The window's files and settings: open, save, examples, recent files, drag and drop, the
// unsaved-changes prompt, exports, QSettings, About.
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <boost/version.hpp>
#include <qcustomplot.h>

#include "charts.hpp"
#include "live_panel.hpp"
#include "main_window.hpp"
#include "results_view.hpp"
#include "run_controller.hpp"
#include "satlink/simulator/chart_data.hpp"
#include "satlink/simulator/results_io.hpp"
#include "scenario_document.hpp"

#ifndef SATLINK_VERSION
#define SATLINK_VERSION "dev"
#endif

namespace satlink::gui {

namespace {
constexpr int kMaxRecent = 8;
}

bool MainWindow::openFile(const QString& path) {
  QString error;
  if (!document_->load(path, &error)) {
    showError(tr("Cannot open the scenario"), error);
    return false;
  }
  lastDir_ = QFileInfo(path).absolutePath();
  rememberRecent(QFileInfo(path).absoluteFilePath());
  if (!document_->errors().empty())
    statusLabel_->setText(tr("%1 opened with %n error(s): see the JSON tab", nullptr,
                             static_cast<int>(document_->errors().size()))
                              .arg(QFileInfo(path).fileName()));
  return true;
}

void MainWindow::openExample(const QString& resource) {
  QString error;
  if (!document_->load(resource, &error)) showError(tr("Cannot open the example"), error);
  updateTitle();
  updateRunState();
}

bool MainWindow::saveTo(const QString& path) {
  QString error;
  if (!document_->save(path, &error)) {
    showError(tr("Cannot save the scenario"), error);
    return false;
  }
  lastDir_ = QFileInfo(path).absolutePath();
  rememberRecent(QFileInfo(path).absoluteFilePath());
  statusLabel_->setText(tr("Saved %1").arg(path));
  return true;
}

bool MainWindow::maybeDiscard() {
  if (!document_->isModified()) return true;
  int answer = discardAnswerForTests_;
  if (answer < 0)
    answer = QMessageBox::warning(this, tr("Unsaved changes"),
                                  tr("The scenario has unsaved changes. Save them first?"),
                                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel,
                                  QMessageBox::Save);
  if (answer == QMessageBox::Discard) return true;
  if (answer != QMessageBox::Save) return false;
  QString path = document_->filePath();
  if (path.isEmpty())
    path = QFileDialog::getSaveFileName(this, tr("Save scenario"), lastDir_, tr("Scenarios (*.json)"));
  return !path.isEmpty() && saveTo(path);
}

void MainWindow::updateTitle() {
  const QString name = document_->filePath().isEmpty()
                           ? QString::fromStdString(document_->loaded().scenario.name)
                           : QFileInfo(document_->filePath()).fileName();
  setWindowTitle(QStringLiteral("%1[*] - Satlink Workbench").arg(name.isEmpty() ? tr("untitled") : name));
  setWindowModified(document_->isModified());
}

void MainWindow::rememberRecent(const QString& path) {
  recent_.removeAll(path);
  recent_.prepend(path);
  while (recent_.size() > kMaxRecent) recent_.removeLast();
  rebuildRecentMenu();
  writeSettings();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  for (const QString& path : recent_)
    recentMenu_->addAction(path, this, [this, path] {
      if (maybeDiscard()) openFile(path);
    });
  recentMenu_->setEnabled(!recent_.isEmpty());
}

void MainWindow::showError(const QString& title, const QString& message) {
  statusLabel_->setText(message);
  if (discardAnswerForTests_ < 0) QMessageBox::warning(this, title, message);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.size() == 1 && urls.front().isLocalFile()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.size() != 1 || !urls.front().isLocalFile()) return;
  event->acceptProposedAction();
  if (maybeDiscard()) openFile(urls.front().toLocalFile());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!maybeDiscard()) {
    event->ignore();
    return;
  }
  run_->cancel();
  live_->stop();
  writeSettings();
  event->accept();
}

QString MainWindow::exportResults(const QString& dir, const QString& format) {
  if (results_->results().empty()) return tr("Nothing to export: run the experiment first.");
  sim::OutputOptions o;
  o.csv = format == "csv";
  o.json = format == "json";
  o.har = format == "har";
  try {
    sim::write_results(dir.toStdString(), results_->scenario(), results_->plan(), results_->results(), o);
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
  lastDir_ = dir;
  return {};
}

QString MainWindow::exportEverything(const QString& dir) {
  if (results_->results().empty()) return tr("Nothing to export: run the experiment first.");
  // Drawing every chart of a big sweep in three formats takes seconds on this thread.
  QApplication::setOverrideCursor(Qt::WaitCursor);
  struct RestoreCursor {
    ~RestoreCursor() { QApplication::restoreOverrideCursor(); }
  } restore;
  sim::OutputOptions o;
  o.events = true;
  try {
    sim::write_results(dir.toStdString(), results_->scenario(), results_->plan(), results_->results(), o);
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
  QString error;
  charts::writeCharts(QDir(dir).filePath("charts"), results_->scenario(), results_->plan(),
                      results_->results(), {charts::Format::Png, charts::Format::Svg, charts::Format::Pdf}, error);
  lastDir_ = dir;
  return error;
}

QString MainWindow::exportChart(const QString& chart, const QString& path) {
  QCustomPlot plot;  // drawn afresh at export size: the one on screen has smaller text
  plot.resize(charts::kWidth, charts::kHeight);
  if (!results_->draw(chart, plot)) return tr("No chart named %1").arg(chart);
  const QString suffix = QFileInfo(path).suffix().toLower();
  charts::Format format;
  if (suffix == "png") format = charts::Format::Png;
  else if (suffix == "svg") format = charts::Format::Svg;
  else if (suffix == "pdf") format = charts::Format::Pdf;
  else return tr("%1: the file name must end in .png, .svg or .pdf").arg(path);
  lastDir_ = QFileInfo(path).absolutePath();
  return charts::exportPlot(plot, path, format);
}

void MainWindow::readSettings() {
  QSettings s;
  restoreGeometry(s.value("window/geometry").toByteArray());
  restoreState(s.value("window/state").toByteArray());
  lastDir_ = s.value("files/lastDir", QDir::homePath()).toString();
  recent_ = s.value("files/recent").toStringList();
  rebuildRecentMenu();
}

void MainWindow::writeSettings() const {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  s.setValue("files/lastDir", lastDir_);
  s.setValue("files/recent", recent_);
}

void MainWindow::about() {
  QMessageBox::about(
      this, tr("About Satlink Workbench"),
      tr("<h3>Satlink Workbench %1</h3>"
         "<p>How much does HTTP keep-alive, between client and proxy and between proxy and "
         "origin, save over a slow, high-latency link, and what does it cost the origin? "
         "Measured on real sockets through emulated links, beside the analytic prediction.</p>"
         "<p>Qt %2, Boost %3.%4, QCustomPlot, nlohmann/json, OpenSSL.</p>"
         "<p>Licence: GNU GPL version 3 or later (see LICENSE).</p>")
          .arg(QStringLiteral(SATLINK_VERSION), QString::fromLatin1(qVersion()))
          .arg(BOOST_VERSION / 100000)
          .arg(BOOST_VERSION / 100 % 1000));
}

}  // namespace satlink::gui
