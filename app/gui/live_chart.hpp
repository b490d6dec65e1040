// The live panel's chart: connections open on the browser's and the origin's side and requests
// per second, over a rolling window, one sample per poll of the live testbed's counters.
#pragma once

#include <qcustomplot.h>

#include "satlink/simulator/live_testbed.hpp"

namespace satlink::gui {

namespace sim = satlink::simulator;

class LiveChart : public QCustomPlot {
  Q_OBJECT

 public:
  static constexpr double kWindowS = 120;

  explicit LiveChart(QWidget* parent = nullptr);
  // Empty, the window at [0, kWindowS] (a new start).
  void reset();
  // The counters at `t` seconds since start; requests per second are counted from the
  // previous sample. Samples older than the window are dropped.
  void addSample(double t, const sim::LiveCounters& counters);

 private:
  std::uint64_t lastRequests_ = 0;
  double lastT_ = 0;
};

}  // namespace satlink::gui
