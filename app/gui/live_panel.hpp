// The live testbed: the chain of one mode kept up so a person can load the page in their own
// browser through the emulated link (sim::LiveTestbed, the engine behind `satlink-cli serve`).
// The panel starts and stops it, shows its URL and chain, polls its counters into a diagram,
// charts and a request log, and changes the links' impairments live from sliders.
#pragma once

#include <QString>
#include <QWidget>
#include <memory>

#include "satlink/simulator/live_testbed.hpp"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableView;
class QTimer;

namespace satlink::gui {

namespace sim = satlink::simulator;

class LinkControls;
class LiveChart;
class LiveRequestModel;
class ScenarioDocument;
class TestbedDiagram;

class LivePanel : public QWidget {
  Q_OBJECT

 public:
  explicit LivePanel(ScenarioDocument* document, QWidget* parent = nullptr);
  ~LivePanel() override;  // stops the testbed
  bool isRunning() const;

  // While running: what the browser opens ("http://127.0.0.1:40001/"); empty when stopped.
  QString url() const;
  TestbedDiagram* diagram() const { return diagram_; }
  QTableView* requestLog() const { return requestView_; }
  LiveChart* chart() const { return chart_; }
  LinkControls* linkControls(sim::LinkSide side) const;
  const sim::LiveTestbed& testbed() const { return *testbed_; }
  // The last error or refusal shown to the user (bind failure, bad address); empty if none.
  QString message() const;
  // Shown while the listen address is not loopback (or not an address at all).
  bool addressWarningVisible() const;

  static constexpr int kPollMs = 500;

 public slots:
  // Starts the document's current scenario in the chosen mode; on failure the panel shows
  // why and stays stopped.
  void start();
  void stop();
  // Reads the counters and the new request rows (the QTimer calls it while running).
  void poll();

 signals:
  void runningChanged(bool running);

 private:
  QWidget* buildControls();
  QWidget* buildRunningInfo();
  void setRunning(bool running);
  void updateStartButton();
  void updateAddressWarning();
  void showMessage(const QString& text, bool error);
  void applyLink(sim::LinkSide side, const sim::LinkConfig& config);

  ScenarioDocument* document_;
  std::unique_ptr<sim::LiveTestbed> testbed_;
  QComboBox* mode_ = nullptr;
  QLineEdit* address_ = nullptr;
  QSpinBox* port_ = nullptr;
  QPushButton* startStop_ = nullptr;
  QLabel* addressWarning_ = nullptr;
  QLabel* message_ = nullptr;
  QLineEdit* url_ = nullptr;
  QPushButton* copyUrl_ = nullptr;
  QPushButton* openUrl_ = nullptr;
  QLabel* chain_ = nullptr;
  TestbedDiagram* diagram_ = nullptr;
  LinkControls* clientLink_ = nullptr;
  LinkControls* serverLink_ = nullptr;
  LiveChart* chart_ = nullptr;
  LiveRequestModel* requests_ = nullptr;
  QTableView* requestView_ = nullptr;
  QTimer* pollTimer_ = nullptr;

  sim::Mode runningMode_ = sim::Mode::keep_alive;
  std::int64_t startNs_ = 0;       // steady clock at start: the charts' and log's zero
  std::uint64_t seenRequests_ = 0;  // finished requests already in the log
};

}  // namespace satlink::gui
