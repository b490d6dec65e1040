#include "live_chart.hpp"

#include <algorithm>
#include <cmath>

namespace satlink::gui {

namespace {

// The graphs, in drawing order: the rate's impulses under the connection lines.
constexpr int kRateGraph = 0;
constexpr int kBrowserGraph = 1;
constexpr int kOriginGraph = 2;

}  // namespace

LiveChart::LiveChart(QWidget* parent) : QCustomPlot(parent) {
  setMinimumHeight(fontMetrics().height() * 10);
  const QColor browser(31, 119, 180), origin(214, 39, 40), rate(120, 120, 120);
  auto add = [&](const QString& name, QColor colour, QCPAxis* axis, QCPGraph::LineStyle style) {
    QCPGraph* g = addGraph(xAxis, axis);
    g->setName(name);
    g->setLineStyle(style);
    g->setPen(QPen(colour, 2));
    return g;
  };
  add(tr("requests/s (right axis)"), rate, yAxis2, QCPGraph::lsImpulse)->setPen(QPen(rate, 3));
  add(tr("browser connections open"), browser, yAxis, QCPGraph::lsStepLeft);
  add(tr("origin connections open"), origin, yAxis, QCPGraph::lsStepLeft);
  xAxis->setLabel(tr("seconds since start"));
  yAxis->setLabel(tr("connections open"));
  yAxis2->setLabel(tr("requests/s"));
  yAxis2->setVisible(true);
  // Whole connections and requests: no 0.5 ticks.
  for (QCPAxis* axis : {yAxis, yAxis2}) {
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    axis->setTicker(ticker);
  }
  // The legend in a row under the plot: inside it would cover the newest samples.
  legend->setVisible(true);
  axisRect()->insetLayout()->take(legend);
  plotLayout()->addElement(1, 0, legend);
  plotLayout()->setRowStretchFactor(1, 0.001);
  legend->setFillOrder(QCPLegend::foColumnsFirst);
  legend->setBorderPen(Qt::NoPen);
  legend->setBrush(Qt::NoBrush);
  reset();
}

void LiveChart::reset() {
  for (int i = 0; i < graphCount(); ++i) graph(i)->data()->clear();
  lastRequests_ = 0;
  lastT_ = 0;
  xAxis->setRange(0, kWindowS);
  yAxis->setRange(0, 4);
  yAxis2->setRange(0, 4);
  replot();
}

void LiveChart::addSample(double t, const sim::LiveCounters& c) {
  const double dt = t - lastT_;
  const double rate = dt > 0 ? static_cast<double>(c.requests - lastRequests_) / dt : 0;
  lastRequests_ = c.requests;
  lastT_ = t;
  graph(kBrowserGraph)->addData(t, static_cast<double>(c.client_link_open));
  graph(kOriginGraph)->addData(t, static_cast<double>(c.origin_open_connections));
  graph(kRateGraph)->addData(t, rate);
  // A rolling window: older samples go, so a session of hours costs what two minutes do.
  const double from = std::max(0.0, t - kWindowS);
  double connections = 1, requests = 1;
  for (int i = 0; i < graphCount(); ++i) {
    QCPGraph* g = graph(i);
    g->data()->removeBefore(from - 1);  // one sample before the edge keeps the step line whole
    double& top = i == kRateGraph ? requests : connections;
    for (const QCPGraphData& d : *g->data()) top = std::max(top, d.value);
  }
  xAxis->setRange(from, std::max(from + kWindowS, t));
  yAxis->setRange(0, std::ceil(connections * 1.2) + 1);
  yAxis2->setRange(0, std::ceil(requests * 1.2) + 1);
  replot(rpQueuedReplot);
}

}  // namespace satlink::gui
