#include "charts.hpp"

#include <qcustomplot.h>

#include <QBuffer>
#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QSvgGenerator>
#include <filesystem>

namespace satlink::charts {

namespace {

QColor modeColor(sim::Mode m) {
  switch (m) {
    case sim::Mode::no_proxy: return QColor(120, 120, 120);
    case sim::Mode::keep_alive: return QColor(31, 119, 180);
    case sim::Mode::server_close: return QColor(44, 160, 44);
    case sim::Mode::close: return QColor(214, 39, 40);
    case sim::Mode::client_close: return QColor(255, 127, 14);
  }
  return Qt::black;
}

QString modeName(sim::Mode m) { return QString::fromUtf8(std::string(sim::to_string(m)).c_str()); }

// Title, fonts and a clean slate: every draw starts from an empty plot.
void prepare(QCustomPlot& plot, const QString& title) {
  plot.clearPlottables();
  plot.clearItems();
  plot.clearGraphs();
  if (plot.plotLayout()->rowCount() > 1 && plot.plotLayout()->elementAt(0)) {
    plot.plotLayout()->removeAt(0);
    plot.plotLayout()->simplify();
  }
  plot.plotLayout()->insertRow(0);
  QFont titleFont = plot.font();
  titleFont.setPointSize(16);
  titleFont.setBold(true);
  plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, title, titleFont));
  QFont axisFont = plot.font();
  axisFont.setPointSize(12);
  for (QCPAxis* axis : {plot.xAxis, plot.yAxis, plot.xAxis2, plot.yAxis2}) {
    axis->setLabelFont(axisFont);
    axis->setTickLabelFont(axisFont);
    axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  plot.xAxis->setRangeReversed(false);
  plot.yAxis->setRangeReversed(false);
  plot.yAxis2->setVisible(false);
  plot.legend->setVisible(true);
  plot.legend->setFont(axisFont);
  // The legend stands right of the chart, never over the data (bars of similar height, lines
  // starting in a corner): taken out of the axis rect's inset layout once per plot.
  if (plot.legend->layout() == plot.axisRect()->insetLayout()) {
    plot.axisRect()->insetLayout()->take(plot.legend);
    plot.axisRect()->insetLayout()->simplify();
    // In a column of its own, at the top: a spacer below takes the rest of the height.
    auto* column = new QCPLayoutGrid;
    plot.plotLayout()->addElement(plot.plotLayout()->rowCount() - 1, 1, column);
    plot.plotLayout()->setColumnStretchFactor(1, 0.001);
    column->addElement(0, 0, plot.legend);
    column->addElement(1, 0, new QCPLayoutElement(&plot));
    column->setRowStretchFactor(0, 0.001);
    plot.legend->setMargins(QMargins(6, 6, 6, 6));
  }
  plot.setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
}

QSharedPointer<QCPAxisTickerText> textTicker(const QVector<double>& ticks, const QVector<QString>& labels) {
  QSharedPointer<QCPAxisTickerText> t(new QCPAxisTickerText);
  t->addTicks(ticks, labels);
  return t;
}

QCPGraph* markers(QCustomPlot& plot, const QString& name, QCPScatterStyle::ScatterShape shape,
                  const QVector<double>& x, const QVector<double>& y) {
  QCPGraph* g = plot.addGraph();
  g->setName(name);
  g->setLineStyle(QCPGraph::lsNone);
  g->setScatterStyle(QCPScatterStyle(shape, QPen(Qt::black, 2), QBrush(Qt::white), 12));
  g->setData(x, y);
  return g;
}

}  // namespace

QString suffix(Format f) {
  switch (f) {
    case Format::Png: return "png";
    case Format::Svg: return "svg";
    case Format::Pdf: return "pdf";
  }
  return "png";
}

bool parseFormats(const QString& list, QList<Format>& out, QString& error) {
  out.clear();
  for (const QString& item : list.split(',', Qt::SkipEmptyParts)) {
    const QString f = item.trimmed().toLower();
    if (f == "png") out << Format::Png;
    else if (f == "svg") out << Format::Svg;
    else if (f == "pdf") out << Format::Pdf;
    else {
      error = "unknown chart format '" + item + "' (png, svg, pdf)";
      return false;
    }
  }
  return true;
}

void drawComparison(QCustomPlot& plot, const std::vector<sim::ModeBar>& bars, const QString& title) {
  prepare(plot, title);
  QVector<double> ticks, predictedTcp, predictedSeed;
  QVector<QString> labels;
  double top = 0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const sim::ModeBar& b = bars[i];
    const double x = static_cast<double>(i + 1);
    auto* bar = new QCPBars(plot.xAxis, plot.yAxis);
    bar->setName(modeName(b.mode));
    bar->setPen(QPen(modeColor(b.mode).darker(130)));
    bar->setBrush(modeColor(b.mode));
    bar->setWidth(0.6);
    bar->setData({x}, {b.load_ms.mean});
    auto* err = new QCPErrorBars(plot.xAxis, plot.yAxis);
    err->removeFromLegend();
    err->setDataPlottable(bar);
    err->setData({b.load_ms.mean - b.load_ms.ci95_low}, {b.load_ms.ci95_high - b.load_ms.mean});
    err->setPen(QPen(Qt::black, 2));
    ticks << x;
    labels << modeName(b.mode);
    predictedTcp << b.predicted_tcp_ms;
    predictedSeed << b.predicted_seed_ms;
    top = std::max({top, b.load_ms.ci95_high, b.predicted_tcp_ms, b.predicted_seed_ms});
  }
  markers(plot, "predicted (tcp model)", QCPScatterStyle::ssDiamond, ticks, predictedTcp);
  markers(plot, "predicted (seed model)", QCPScatterStyle::ssCross, ticks, predictedSeed);
  plot.xAxis->setTicker(textTicker(ticks, labels));
  plot.xAxis->setLabel("keep-alive mode");
  plot.yAxis->setLabel("page-load time (ms), mean with 95 % interval");
  plot.xAxis->setRange(0.3, bars.size() + 0.7);
  plot.yAxis->setRange(0, top * 1.15 + 1);
  plot.legend->setVisible(true);
}

void drawBreakdown(QCustomPlot& plot, const std::vector<sim::Breakdown>& rows, const QString& title) {
  prepare(plot, title);
  struct Part {
    const char* name;
    QColor color;
    double sim::Breakdown::*field;
  };
  const Part parts[] = {{"set-up, client side", QColor(214, 39, 40), &sim::Breakdown::client_setup_ms},
                        {"set-up, server side", QColor(255, 127, 14), &sim::Breakdown::server_setup_ms},
                        {"TLS", QColor(148, 103, 189), &sim::Breakdown::tls_ms},
                        {"waiting", QColor(31, 119, 180), &sim::Breakdown::waiting_ms},
                        {"transfer", QColor(44, 160, 44), &sim::Breakdown::transfer_ms}};
  QVector<double> ticks;
  QVector<QString> labels;
  double top = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ticks << static_cast<double>(i + 1);
    labels << modeName(rows[i].mode);
    double sum = 0;
    for (const Part& p : parts) sum += rows[i].*(p.field);
    top = std::max(top, sum);
  }
  QCPBars* below = nullptr;
  for (const Part& p : parts) {
    auto* bars = new QCPBars(plot.xAxis, plot.yAxis);
    bars->setName(p.name);
    bars->setBrush(p.color);
    bars->setPen(QPen(p.color.darker(130)));
    bars->setWidth(0.6);
    QVector<double> values;
    for (const auto& r : rows) values << r.*(p.field);
    bars->setData(ticks, values);
    if (below) bars->moveAbove(below);
    below = bars;
  }
  plot.xAxis->setTicker(textTicker(ticks, labels));
  plot.xAxis->setLabel("keep-alive mode");
  plot.yAxis->setLabel("page-load time (ms), mean over repetitions");
  plot.xAxis->setRange(0.3, rows.size() + 0.7);
  plot.yAxis->setRange(0, top * 1.15 + 1);
}

void drawSweep(QCustomPlot& plot, const sim::Sweep& sweep, const QString& title) {
  prepare(plot, title);
  double top = 0;
  for (const sim::SweepLine& line : sweep.lines) {
    QVector<double> x(line.x.begin(), line.x.end()), mean, minus, plus;
    for (const auto& a : line.measured_ms) {
      mean << a.mean;
      minus << a.mean - a.ci95_low;
      plus << a.ci95_high - a.mean;
      top = std::max(top, a.ci95_high);
    }
    QCPGraph* measured = plot.addGraph();
    measured->setName(QString::fromStdString(line.label) + " (measured)");
    measured->setPen(QPen(modeColor(line.mode), 3));
    measured->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 8));
    measured->setData(x, mean);
    auto* err = new QCPErrorBars(plot.xAxis, plot.yAxis);
    err->removeFromLegend();
    err->setDataPlottable(measured);
    err->setData(minus, plus);
    err->setPen(QPen(modeColor(line.mode), 2));
    QCPGraph* predicted = plot.addGraph();
    predicted->setName(QString::fromStdString(line.label) + " (predicted, tcp)");
    predicted->setPen(QPen(modeColor(line.mode), 2, Qt::DashLine));
    QVector<double> p(line.predicted_tcp_ms.begin(), line.predicted_tcp_ms.end());
    predicted->setData(x, p);
    for (double v : p) top = std::max(top, v);
  }
  if (!sweep.numeric) {
    QVector<double> ticks;
    QVector<QString> labels;
    for (std::size_t i = 0; i < sweep.x_ticks.size(); ++i) {
      ticks << static_cast<double>(i);
      labels << QString::fromStdString(sweep.x_ticks[i]);
    }
    plot.xAxis->setTicker(textTicker(ticks, labels));
  }
  plot.xAxis->setLabel(QString::fromStdString(sweep.x_label));
  plot.yAxis->setLabel("page-load time (ms)");
  plot.rescaleAxes();
  const QCPRange xr = plot.xAxis->range();
  const double pad = std::max(0.5, xr.size() * 0.05);
  plot.xAxis->setRange(xr.lower - pad, xr.upper + pad);
  plot.yAxis->setRange(0, top * 1.15 + 1);
}

void drawWaterfall(QCustomPlot& plot, const std::vector<sim::WaterfallRow>& rows,
                   const QString& title) {
  prepare(plot, title);
  struct Phase {
    const char* name;
    QColor color;
    double sim::WaterfallRow::*field;
  };
  const Phase phases[] = {{"blocked", QColor(200, 200, 200), &sim::WaterfallRow::blocked_ms},
                          {"connect", QColor(255, 127, 14), &sim::WaterfallRow::connect_ms},
                          {"TLS", QColor(148, 103, 189), &sim::WaterfallRow::ssl_ms},
                          {"send", QColor(23, 190, 207), &sim::WaterfallRow::send_ms},
                          {"wait", QColor(31, 119, 180), &sim::WaterfallRow::wait_ms},
                          {"receive", QColor(44, 160, 44), &sim::WaterfallRow::receive_ms}};
  QVector<double> keys;
  QVector<QString> labels;
  double end = 0;
  const std::size_t every = std::max<std::size_t>(1, rows.size() / 40);  // labels stay legible
  for (std::size_t i = 0; i < rows.size(); ++i) {
    keys << static_cast<double>(i + 1);
    labels << (i % every == 0 ? QString::fromStdString(rows[i].label) : QString());
    const auto& r = rows[i];
    end = std::max(end, r.start_ms + r.blocked_ms + r.connect_ms + r.ssl_ms + r.send_ms +
                            r.wait_ms + r.receive_ms);
  }
  // An invisible bar up to each request's start, the phases stacked on it.
  auto* offset = new QCPBars(plot.yAxis, plot.xAxis);
  offset->setPen(Qt::NoPen);
  offset->setBrush(Qt::NoBrush);
  offset->removeFromLegend();
  offset->setWidth(0.7);
  QVector<double> starts;
  for (const auto& r : rows) starts << r.start_ms;
  offset->setData(keys, starts);
  QCPBars* below = offset;
  for (const Phase& p : phases) {
    auto* bars = new QCPBars(plot.yAxis, plot.xAxis);
    bars->setName(p.name);
    bars->setBrush(p.color);
    bars->setPen(Qt::NoPen);
    bars->setWidth(0.7);
    QVector<double> values;
    for (const auto& r : rows) values << r.*(p.field);
    bars->setData(keys, values);
    bars->moveAbove(below);
    below = bars;
  }
  plot.yAxis->setTicker(textTicker(keys, labels));
  plot.yAxis->setRangeReversed(true);
  plot.yAxis->setRange(0.3, rows.size() + 0.7);
  QFont small = plot.font();
  small.setPointSize(rows.size() > 20 ? 8 : 11);
  plot.yAxis->setTickLabelFont(small);
  plot.xAxis->setLabel("time since the first request (ms)");
  plot.yAxis->setLabel("request (connection)");
  plot.xAxis->setRange(0, end * 1.05 + 1);
  // Early requests start at the left and the last ones end at the right: the top right is free.
}

void drawConnections(QCustomPlot& plot, const sim::OccupancySeries& series, const QString& title) {
  prepare(plot, title);
  auto step = [&](const std::vector<sim::SeriesPoint>& points, const QString& name, QColor color,
                  QCPAxis* valueAxis, double scale, Qt::PenStyle style) {
    QCPGraph* g = plot.addGraph(plot.xAxis, valueAxis);
    g->setName(name);
    g->setLineStyle(QCPGraph::lsStepLeft);
    g->setPen(QPen(color, 3, style));
    QVector<double> x, y;
    for (const auto& p : points) {
      x << p.t_ms;
      y << p.value * scale;
    }
    g->setData(x, y);
    return g;
  };
  // Memory first and thin, so the connection lines are drawn over it.
  step(series.origin_memory, "origin memory (KiB, right axis)", QColor(150, 150, 150), plot.yAxis2,
       1.0 / 1024, Qt::DashLine)->setPen(QPen(QColor(150, 150, 150), 1.5, Qt::DashLine));
  step(series.client_open, "browser connections open", QColor(31, 119, 180), plot.yAxis, 1, Qt::SolidLine);
  step(series.origin_active, "origin connections, active", QColor(214, 39, 40), plot.yAxis, 1, Qt::SolidLine);
  step(series.origin_idle, "origin connections, idle", QColor(255, 127, 14), plot.yAxis, 1, Qt::SolidLine);
  plot.yAxis2->setVisible(true);
  plot.yAxis2->setLabel("estimated origin memory (KiB)");
  plot.xAxis->setLabel("time since the trial started (ms)");
  plot.yAxis->setLabel("connections open");
  plot.rescaleAxes();
  plot.yAxis->setRange(0, plot.yAxis->range().upper * 1.2 + 1);
  plot.yAxis2->setRange(0, plot.yAxis2->range().upper * 1.2 + 1);
}

QString exportPlot(QCustomPlot& plot, const QString& path, Format format, int width, int height) {
  if (format == Format::Svg) {
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator svg;
    svg.setOutputDevice(&buffer);
    svg.setSize(QSize(width, height));
    svg.setViewBox(QRect(0, 0, width, height));
    svg.setTitle(path);
    QCPPainter painter;
    painter.begin(&svg);
    plot.toPainter(&painter, width, height);
    painter.end();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(buffer.data()) != buffer.size() ||
        !file.commit())
      return "cannot write " + path + ": " + file.errorString();
    return {};
  }
  // QCustomPlot writes PNG and PDF itself: to a temporary name, renamed when complete.
  const QString tmp = path + ".tmp";
  const bool ok = format == Format::Png ? plot.savePng(tmp, width, height)
                                        : plot.savePdf(tmp, width, height);
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp.toStdString(), path.toStdString(), ec);
  if (!ok || ec) {
    QFile::remove(tmp);
    return "cannot write " + path + (ec ? ": " + QString::fromStdString(ec.message()) : QString());
  }
  return {};
}

QStringList writeCharts(const QString& dir, const sim::Scenario& scenario,
                        const sim::ExperimentPlan& plan,
                        const std::vector<sim::TrialResult>& results,
                        const QList<Format>& formats, QString& error) {
  QStringList written;
  if (!QDir().mkpath(dir)) {
    error = "cannot create " + dir;
    return written;
  }
  QCustomPlot plot;
  plot.resize(kWidth, kHeight);
  const QString name = QString::fromStdString(scenario.name);
  auto save = [&](const QString& base) {
    for (Format f : formats) {
      const QString path = QDir(dir).filePath(base + "." + suffix(f));
      const QString e = exportPlot(plot, path, f);
      if (e.isEmpty()) written << path;
      else if (error.isEmpty()) error = e;
    }
  };
  const QString at = plan.sweep_paths.empty() ? QString() : " (first sweep point)";
  drawComparison(plot, sim::comparison(results, 0), name + ": page-load time per mode" + at);
  save("comparison");
  drawBreakdown(plot, sim::breakdown(results, 0), name + ": where the time went" + at);
  save("breakdown");
  if (!plan.sweep_paths.empty()) {
    drawSweep(plot, sim::sweep(plan, results), name + ": measured (lines) and predicted (dashed)");
    save("sweep");
  }
  for (sim::Mode m : scenario.experiment.modes) {
    const sim::TrialResult* r = sim::representative(results, m, 0);
    if (!r) continue;
    const QString label = QString::fromStdString(r->label);
    drawWaterfall(plot, sim::waterfall(*r), "Waterfall: " + label);
    save("waterfall-" + modeName(m));
    drawConnections(plot, r->series, "Connections and origin memory: " + label);
    save("connections-" + modeName(m));
  }
  return written;
}

}  // namespace satlink::charts
