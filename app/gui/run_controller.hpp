// Runs an experiment off the GUI thread through the engine's public API (plan, run with progress
// and cancel) and hands the window snapshots: the trials done so far, progress, a remaining-time
// estimate. The engine's progress callback runs on worker threads; it only appends under a lock,
// and the window picks the snapshot up on a timer, so a burst of finished trials costs one redraw.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "satlink/simulator/experiment.hpp"

namespace satlink::gui {

namespace sim = satlink::simulator;

struct RunSnapshot {
  std::size_t done = 0, total = 0, failed = 0;
  double elapsed_s = 0;
  double remaining_s = -1;  // -1: not known yet
  std::vector<sim::TrialResult> results;  // in plan order
};

class RunController : public QObject {
  Q_OBJECT

 public:
  static constexpr std::size_t kMaxTrialsWithEvents = 1000;

  explicit RunController(QObject* parent = nullptr);
  ~RunController() override;  // cancels and joins a running experiment

  // Starts the plan on a thread; false when one is already running.
  bool start(const sim::Scenario& scenario, const sim::RunOptions& options = {});
  // Asks the engine to stop: running trials end within a second, the rest are skipped;
  // finished() follows.
  void cancel();
  bool isRunning() const { return running_; }

  const sim::Scenario& scenario() const { return scenario_; }
  const sim::ExperimentPlan& plan() const { return plan_; }
  RunSnapshot snapshot() const;

 signals:
  // Coalesced: at most every 250 ms while trials finish.
  void progressed();
  // The run ended (all done, or cancelled); the last snapshot holds every result.
  void finished(bool cancelled);

 private:
  void poll();

  sim::Scenario scenario_;
  sim::ExperimentPlan plan_;
  std::thread thread_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> ended_{false};
  bool running_ = false;
  mutable std::mutex mutex_;
  std::vector<sim::TrialResult> results_;
  sim::Progress progress_;
  bool dirty_ = false;
  std::vector<double> predicted_ms_;  // by trial index: page load + hold
  double predicted_total_ms_ = 0, predicted_done_ms_ = 0;
  QElapsedTimer clock_;
  QTimer* poll_;
};

}  // namespace satlink::gui
