// The chart library: draws the engine's chart data (simulator/chart_data.hpp) with QCustomPlot,
// the same code in the GUI and headless, and exports PNG, SVG and PDF. Drawing only: what to
// show is computed below Qt.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <vector>

#include "satlink/simulator/chart_data.hpp"

class QCustomPlot;

namespace satlink::charts {

namespace sim = satlink::simulator;

enum class Format { Png, Svg, Pdf };
QString suffix(Format f);
// "png,svg,pdf" -> formats; false with an error naming the bad item.
bool parseFormats(const QString& list, QList<Format>& out, QString& error);

// Readable at 1600 x 1000 and in print.
constexpr int kWidth = 1600;
constexpr int kHeight = 1000;

void drawComparison(QCustomPlot& plot, const std::vector<sim::ModeBar>& bars, const QString& title);
void drawBreakdown(QCustomPlot& plot, const std::vector<sim::Breakdown>& rows, const QString& title);
void drawSweep(QCustomPlot& plot, const sim::Sweep& sweep, const QString& title);
void drawWaterfall(QCustomPlot& plot, const std::vector<sim::WaterfallRow>& rows,
                   const QString& title);
void drawConnections(QCustomPlot& plot, const sim::OccupancySeries& series, const QString& title);

// Writes through a temporary file and a rename. Returns an empty string, or why it failed.
QString exportPlot(QCustomPlot& plot, const QString& path, Format format, int width = kWidth,
                   int height = kHeight);

// Every chart of a run into `dir` (created if missing): comparison, breakdown, sweep (with a
// sweep), and per mode a waterfall and connections over time. Returns the files written; on a
// failed write, `error` says which and why and the rest are still attempted.
QStringList writeCharts(const QString& dir, const sim::Scenario& scenario,
                        const sim::ExperimentPlan& plan,
                        const std::vector<sim::TrialResult>& results,
                        const QList<Format>& formats, QString& error);

}  // namespace satlink::charts
