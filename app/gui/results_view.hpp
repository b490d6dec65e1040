// The results of a run: the engine's charts (comparison, breakdown, sweep, waterfall with a
// mode/repetition picker, connections and origin memory), interactive (drag to pan, wheel to
// zoom, double-click to reset, hover for exact values, click a legend entry to hide its line),
// a sortable, copyable table of the trials, and the event log of one trial with a filter.
// Everything shown is computed by the engine (chart_data, metrics); this only draws.
#pragma once

#include <QTabWidget>
#include <vector>

#include "satlink/simulator/experiment.hpp"

class QComboBox;
class QCustomPlot;
class QLineEdit;
class QTableWidget;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace satlink::gui {

namespace sim = satlink::simulator;

class ResultsView : public QTabWidget {
  Q_OBJECT

 public:
  explicit ResultsView(QWidget* parent = nullptr);

  // The run's results so far (plan order); redraws everything (coalesced by the caller).
  void setResults(const sim::Scenario& scenario, const sim::ExperimentPlan& plan,
                  const std::vector<sim::TrialResult>& results);
  void clear();

 signals:
  void pointChanged();  // the user picked another sweep point

 public:

  // The plots by name: comparison, breakdown, sweep, waterfall, connections.
  QCustomPlot* plot(const QString& name) const;
  QStringList plotNames() const;
  QString currentPlotName() const;
  std::uint32_t currentPoint() const;  // the sweep point the comparison shows
  // Draws the named chart (the current point and trial) into `plot`, sized for export: the
  // screen's plots have smaller text. False for an unknown name.
  bool draw(const QString& name, QCustomPlot& plot) const;  // the chart on screen (comparison when none is)
  QTableView* table() const { return tableView_; }
  QTableView* events() const { return eventsView_; }
  const sim::ExperimentPlan& plan() const { return plan_; }
  const std::vector<sim::TrialResult>& results() const { return results_; }
  const sim::Scenario& scenario() const { return scenario_; }

  // Copies the selected table rows (or all) as tab-separated text with the header.
  void copyTable() const;

 private:
  QWidget* wrapWithPicker(QCustomPlot* plot, QComboBox* picker, const QString& label);
  void redraw(const QStringList& names);
  void redrawPointCharts();
  void redrawTrialCharts();
  void fillTable();
  void fillEvents();
  void makeInteractive(QCustomPlot* plot);

  sim::Scenario scenario_;
  sim::ExperimentPlan plan_;
  std::vector<sim::TrialResult> results_;
  QCustomPlot* comparison_;
  QCustomPlot* breakdown_;
  QCustomPlot* sweep_;
  QCustomPlot* waterfall_;
  QCustomPlot* connections_;
  QWidget* sweepPage_;
  QComboBox* pointPicker_;     // the sweep point the comparison and breakdown show
  QComboBox* trialPicker_;     // the trial the waterfall and connections show
  QComboBox* trialPicker2_;
  QComboBox* eventTrialPicker_;
  QLineEdit* eventFilter_;
  QStandardItemModel* tableModel_;
  QTableView* tableView_;
  QStandardItemModel* eventsModel_;
  QSortFilterProxyModel* eventsFilter_;
  QTableView* eventsView_;
};

}  // namespace satlink::gui
