// The workbench window: the scenario (form and JSON tabs) on the left; the testbed diagram, the
// answer card and the results (charts, table, events) or the live testbed on the right; Run /
// Stop with progress and the remaining time. It talks to the engine only through its public
// API: the document loads and validates, RunController runs, ResultsView draws what chart_data
// computes, export goes through results_io and the chart library.
#pragma once

#include <QMainWindow>
#include <QStringList>

#include "satlink/simulator/scenario.hpp"

class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QTabWidget;
class QTimer;

namespace satlink::gui {

class JsonEditor;
class LivePanel;
class ResultsView;
class RunController;
class ScenarioDocument;
class ScenarioForm;
class TestbedDiagram;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Files. Each returns false (and says why in a message box unless `quiet`) on failure.
  bool openFile(const QString& path);
  bool saveTo(const QString& path);
  void openExample(const QString& resource);  // ":/scenarios/geo-600ms.json"

  // Runs. The Run action is disabled (with the reason in its tooltip) while the scenario is
  // invalid or a run is going.
  bool runExperiment();
  void stopExperiment();
  bool isRunning() const;
  QString runBlockedReason() const;  // empty when Run is possible

  // Export: "" on success, else why not. Same files as `satlink-cli run` (charts in charts/).
  QString exportEverything(const QString& dir);
  QString exportResults(const QString& dir, const QString& format);  // csv, json or har
  QString exportChart(const QString& chart, const QString& path);     // by suffix png/svg/pdf
  QString answerText() const;
  // The snippet for the chosen keep-alive mode (HAProxy or nginx) that the Edit menu copies.
  QString configSnippet(const QString& server, simulator::Mode mode) const;

  ScenarioDocument* document() const { return document_; }
  ResultsView* results() const { return results_; }
  LivePanel* livePanel() const { return live_; }
  TestbedDiagram* diagram() const { return diagram_; }
  QProgressBar* progressBar() const { return progress_; }
  QAction* runAction() const { return runAction_; }
  QAction* stopAction() const { return stopAction_; }
  JsonEditor* jsonEditor() const { return json_; }
  ScenarioForm* form() const { return form_; }

  // Answers "discard unsaved changes?" in tests (no modal dialog): unset = ask the user.
  void setDiscardAnswerForTests(int answer) { discardAnswerForTests_ = answer; }

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildActions();
  void buildLayout();
  void updateTitle();
  void updateRunState();
  void showSnapshot();
  void runFinished(bool cancelled);
  void updateAnswer();
  bool maybeDiscard();
  void rememberRecent(const QString& path);
  void rebuildRecentMenu();
  void showError(const QString& title, const QString& message);
  void readSettings();
  void writeSettings() const;
  void about();

  ScenarioDocument* document_;
  RunController* run_;
  ScenarioForm* form_ = nullptr;
  JsonEditor* json_ = nullptr;
  ResultsView* results_ = nullptr;
  LivePanel* live_ = nullptr;
  TestbedDiagram* diagram_ = nullptr;
  QLabel* answer_ = nullptr;
  QString answerPlain_;
  QTabWidget* rightTabs_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* progressLabel_ = nullptr;
  QLabel* statusLabel_ = nullptr;
  QAction* runAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QAction* saveAction_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QStringList recent_;
  QString lastDir_;
  QTimer* redraw_ = nullptr;
  bool redrawPending_ = false;
  int discardAnswerForTests_ = -1;
};

}  // namespace satlink::gui
