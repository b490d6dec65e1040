#include "run_controller.hpp"

#include <algorithm>

namespace satlink::gui {

RunController::RunController(QObject* parent) : QObject(parent), poll_(new QTimer(this)) {
  poll_->setInterval(250);
  connect(poll_, &QTimer::timeout, this, &RunController::poll);
}

RunController::~RunController() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

bool RunController::start(const sim::Scenario& scenario, const sim::RunOptions& options) {
  if (running_) return false;
  if (thread_.joinable()) thread_.join();
  scenario_ = scenario;
  plan_ = sim::plan_experiment(scenario_);
  // Every event of every trial (the Events tab) is ~100 kB a trial for the 31-object page, and
  // snapshots copy the results: above this many trials the events are not kept.
  sim::RunOptions run_options = options;
  if (plan_.trials.size() > kMaxTrialsWithEvents) run_options.keep_events = false;
  {
    std::lock_guard lock(mutex_);
    results_.clear();
    progress_ = {};
    progress_.total = plan_.trials.size();
    dirty_ = true;
  }
  // The remaining time is estimated from the predictions: the share of the plan's predicted
  // trial time that is done, scaled by the wall time so far.
  predicted_total_ms_ = predicted_done_ms_ = 0;
  predicted_ms_.clear();
  for (const auto& t : plan_.trials) {
    predicted_ms_.push_back(sim::predict(sim::prediction_input(t), sim::PredictionModel::tcp).page_load_ms +
                            t.scenario.experiment.hold_ms);
    predicted_total_ms_ += predicted_ms_.back();
  }
  cancel_ = false;
  ended_ = false;
  running_ = true;
  clock_.start();
  thread_ = std::thread([this, run_options] {
    sim::run_experiment(
        plan_, run_options,
        [this](const sim::Progress& p, const sim::TrialResult& r) {
          std::lock_guard lock(mutex_);
          progress_ = p;
          if (r.index < predicted_ms_.size()) predicted_done_ms_ += predicted_ms_[r.index];
          const auto at = std::upper_bound(
              results_.begin(), results_.end(), r.index,
              [](std::uint32_t i, const sim::TrialResult& x) { return i < x.index; });
          results_.insert(at, r);
          dirty_ = true;
        },
        cancel_);
    ended_ = true;
  });
  poll_->start();
  return true;
}

void RunController::cancel() { cancel_ = true; }

RunSnapshot RunController::snapshot() const {
  RunSnapshot s;
  std::lock_guard lock(mutex_);
  s.done = progress_.done;
  s.total = progress_.total;
  s.failed = progress_.failed;
  s.results = results_;
  s.elapsed_s = running_ || clock_.isValid() ? static_cast<double>(clock_.elapsed()) / 1000.0 : 0;
  if (s.done > 0 && predicted_done_ms_ > 0 && predicted_total_ms_ > predicted_done_ms_)
    s.remaining_s = s.elapsed_s * (predicted_total_ms_ - predicted_done_ms_) / predicted_done_ms_;
  else if (s.done == s.total && s.total > 0)
    s.remaining_s = 0;
  return s;
}

void RunController::poll() {
  bool dirty;
  {
    std::lock_guard lock(mutex_);
    dirty = dirty_;
    dirty_ = false;
  }
  if (dirty) emit progressed();
  if (!ended_) return;
  poll_->stop();
  thread_.join();
  running_ = false;
  emit finished(cancel_.load());
}

}  // namespace satlink::gui
