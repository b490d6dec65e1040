#include "results_view.hpp"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "charts.hpp"
#include "satlink/simulator/chart_data.hpp"
#include "satlink/simulator/metrics.hpp"

namespace satlink::gui {

namespace {

QString pointName(const sim::ExperimentPlan& plan, std::uint32_t point) {
  const std::string label = sim::point_label(plan, point);
  return label.empty() ? QString::number(point) : QString::fromStdString(label);
}

QTableView* makeTable(QWidget* parent, QAbstractItemModel* model) {
  auto* view = new QTableView(parent);
  view->setModel(model);
  view->setSortingEnabled(true);
  view->setSelectionBehavior(QAbstractItemView::SelectRows);
  view->setEditTriggers(QAbstractItemView::NoEditTriggers);
  view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  view->verticalHeader()->setVisible(false);
  view->setWordWrap(false);
  return view;
}

// The chart library sizes text for a 1600 x 1000 export; on screen a chart has about half that
// room, so its text is set a step smaller (the export functions redraw at full size).
void fitScreen(QCustomPlot& plot) {
  QFont small = plot.font();
  small.setPointSize(10);
  for (QCPAxis* axis : {plot.xAxis, plot.yAxis, plot.xAxis2, plot.yAxis2}) {
    axis->setTickLabelFont(small);
    axis->setLabelFont(small);
  }
  plot.legend->setFont(small);
  for (int i = 0; i < plot.plotLayout()->elementCount(); ++i)
    if (auto* title = qobject_cast<QCPTextElement*>(plot.plotLayout()->elementAt(i))) {
      QFont f = title->font();
      f.setPointSize(13);
      title->setFont(f);
    }
}

QStandardItem* numberItem(double v) {
  auto* item = new QStandardItem;
  item->setData(v, Qt::DisplayRole);  // sorts as a number
  return item;
}

}  // namespace

ResultsView::ResultsView(QWidget* parent)
    : QTabWidget(parent),
      comparison_(new QCustomPlot),
      breakdown_(new QCustomPlot),
      sweep_(new QCustomPlot),
      waterfall_(new QCustomPlot),
      connections_(new QCustomPlot),
      pointPicker_(new QComboBox),
      trialPicker_(new QComboBox),
      trialPicker2_(new QComboBox),
      eventTrialPicker_(new QComboBox),
      eventFilter_(new QLineEdit),
      tableModel_(new QStandardItemModel(this)),
      eventsModel_(new QStandardItemModel(this)),
      eventsFilter_(new QSortFilterProxyModel(this)) {
  for (QCustomPlot* p : {comparison_, breakdown_, sweep_, waterfall_, connections_}) makeInteractive(p);
  comparison_->setObjectName(QStringLiteral("comparison"));
  breakdown_->setObjectName(QStringLiteral("breakdown"));
  sweep_->setObjectName(QStringLiteral("sweep"));
  waterfall_->setObjectName(QStringLiteral("waterfall"));
  connections_->setObjectName(QStringLiteral("connections"));

  // Comparison and breakdown share the point picker (they show one sweep point).
  auto* pointPage = new QWidget;
  auto* pointLayout = new QVBoxLayout(pointPage);
  auto* pickerRow = new QHBoxLayout;
  pickerRow->addWidget(new QLabel(tr("Sweep point:")));
  pickerRow->addWidget(pointPicker_, 1);
  pointLayout->addLayout(pickerRow);
  auto* pointTabs = new QTabWidget;
  pointTabs->addTab(comparison_, tr("Page load per mode"));
  pointTabs->addTab(breakdown_, tr("Where the time went"));
  pointLayout->addWidget(pointTabs, 1);
  addTab(pointPage, tr("Comparison"));

  sweepPage_ = sweep_;
  addTab(sweep_, tr("Sweep"));
  addTab(wrapWithPicker(waterfall_, trialPicker_, tr("Trial:")), tr("Waterfall"));
  addTab(wrapWithPicker(connections_, trialPicker2_, tr("Trial:")), tr("Connections"));

  tableView_ = makeTable(this, tableModel_);
  tableView_->setObjectName(QStringLiteral("resultsTable"));
  addTab(tableView_, tr("Table"));

  eventsFilter_->setSourceModel(eventsModel_);
  eventsFilter_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  eventsFilter_->setFilterKeyColumn(-1);
  eventsView_ = makeTable(this, eventsFilter_);
  eventsView_->setObjectName(QStringLiteral("eventsTable"));
  auto* eventsPage = new QWidget;
  auto* eventsLayout = new QVBoxLayout(eventsPage);
  auto* eventsRow = new QHBoxLayout;
  eventsRow->addWidget(new QLabel(tr("Trial:")));
  eventsRow->addWidget(eventTrialPicker_, 1);
  eventFilter_->setPlaceholderText(tr("Filter: component, kind, connection..."));
  eventFilter_->setClearButtonEnabled(true);
  eventsRow->addWidget(eventFilter_, 1);
  eventsLayout->addLayout(eventsRow);
  eventsLayout->addWidget(eventsView_, 1);
  addTab(eventsPage, tr("Events"));

  connect(pointPicker_, &QComboBox::currentIndexChanged, this, [this] {
    redrawPointCharts();
    emit pointChanged();
  });
  connect(trialPicker_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (trialPicker2_->currentIndex() != i) trialPicker2_->setCurrentIndex(i);
    redrawTrialCharts();
  });
  connect(trialPicker2_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (trialPicker_->currentIndex() != i) trialPicker_->setCurrentIndex(i);
  });
  connect(eventTrialPicker_, &QComboBox::currentIndexChanged, this, &ResultsView::fillEvents);
  connect(eventFilter_, &QLineEdit::textChanged, eventsFilter_,
          &QSortFilterProxyModel::setFilterFixedString);
  clear();
}

QWidget* ResultsView::wrapWithPicker(QCustomPlot* plot, QComboBox* picker, const QString& label) {
  auto* page = new QWidget;
  auto* layout = new QVBoxLayout(page);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(label));
  row->addWidget(picker, 1);
  layout->addLayout(row);
  layout->addWidget(plot, 1);
  return page;
}

void ResultsView::makeInteractive(QCustomPlot* plot) {
  plot->setMinimumSize(400, 260);
  plot->setMouseTracking(true);
  // Legend toggles: a click on an entry hides or shows its line (greyed when hidden).
  connect(plot, &QCustomPlot::legendClick, this,
          [plot](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
            auto* entry = qobject_cast<QCPPlottableLegendItem*>(item);
            if (!entry) return;
            QCPAbstractPlottable* p = entry->plottable();
            p->setVisible(!p->visible());
            entry->setTextColor(p->visible() ? Qt::black : Qt::gray);
            plot->replot();
          });
  connect(plot, &QCustomPlot::mouseDoubleClick, this, [plot](QMouseEvent*) {
    plot->rescaleAxes(true);
    plot->replot();
  });
  // Hover: the exact value of the nearest data point under the cursor.
  connect(plot, &QCustomPlot::mouseMove, this, [plot](QMouseEvent* event) {
    const QPointF pos = event->position();
    double best = 12;  // px
    QString text;
    for (int i = 0; i < plot->plottableCount(); ++i) {
      QCPAbstractPlottable* p = plot->plottable(i);
      if (!p->visible() || p->name().isEmpty()) continue;
      QVariant details;
      const double d = p->selectTest(pos, false, &details);
      if (d < 0 || d >= best) continue;
      const auto selection = details.value<QCPDataSelection>();
      if (selection.isEmpty() || !p->interface1D()) continue;
      const int index = selection.dataRange().begin();
      best = d;
      text = QStringLiteral("%1\n%2: %3\n%4: %5")
                 .arg(p->name(), p->keyAxis()->label())
                 .arg(p->interface1D()->dataMainKey(index), 0, 'g', 6)
                 .arg(p->valueAxis()->label())
                 .arg(p->interface1D()->dataMainValue(index), 0, 'g', 6);
    }
    if (text.isEmpty()) QToolTip::hideText();
    else QToolTip::showText(event->globalPosition().toPoint(), text, plot);
  });
}

QCustomPlot* ResultsView::plot(const QString& name) const {
  for (QCustomPlot* p : {comparison_, breakdown_, sweep_, waterfall_, connections_})
    if (p->objectName() == name) return p;
  return nullptr;
}

QStringList ResultsView::plotNames() const {
  QStringList names{"comparison", "breakdown"};
  if (!plan_.sweep_paths.empty()) names << "sweep";
  names << "waterfall" << "connections";
  return names;
}

std::uint32_t ResultsView::currentPoint() const {
  return static_cast<std::uint32_t>(std::max(0, pointPicker_->currentIndex()));
}

QString ResultsView::currentPlotName() const {
  for (const QString& name : plotNames())
    if (plot(name)->isVisible()) return name;
  return QStringLiteral("comparison");
}

void ResultsView::clear() { setResults({}, {}, {}); }

void ResultsView::setResults(const sim::Scenario& scenario, const sim::ExperimentPlan& plan,
                             const std::vector<sim::TrialResult>& results) {
  const bool samePlan = plan_.trials.size() == plan.trials.size() && plan_.points == plan.points &&
                        plan_.sweep_paths == plan.sweep_paths;
  scenario_ = scenario;
  plan_ = plan;
  results_ = results;
  setTabVisible(indexOf(sweepPage_), !plan_.sweep_paths.empty());

  // Pickers keep the user's choice across snapshots of the same run.
  const int point = samePlan ? std::max(0, pointPicker_->currentIndex()) : 0;
  const QVariant trial = samePlan ? trialPicker_->currentData() : QVariant();
  const QVariant eventTrial = samePlan ? eventTrialPicker_->currentData() : QVariant();
  for (QComboBox* c : {pointPicker_, trialPicker_, trialPicker2_, eventTrialPicker_}) {
    c->blockSignals(true);
    c->clear();
  }
  for (std::uint32_t p = 0; p < plan_.points; ++p) pointPicker_->addItem(pointName(plan_, p), p);
  pointPicker_->setCurrentIndex(std::min(point, pointPicker_->count() - 1));
  pointPicker_->setEnabled(plan_.points > 1);
  for (const auto& r : results_) {
    const QString label = QString::fromStdString(r.label) + (r.error.empty() ? "" : tr(" (failed)"));
    for (QComboBox* c : {trialPicker_, trialPicker2_, eventTrialPicker_}) c->addItem(label, r.index);
  }
  auto restore = [](QComboBox* c, const QVariant& v) {
    const int i = v.isValid() ? c->findData(v) : -1;
    c->setCurrentIndex(i >= 0 ? i : (c->count() > 0 ? 0 : -1));
  };
  restore(trialPicker_, trial);
  restore(trialPicker2_, trial);
  restore(eventTrialPicker_, eventTrial);
  for (QComboBox* c : {pointPicker_, trialPicker_, trialPicker2_, eventTrialPicker_})
    c->blockSignals(false);

  redrawPointCharts();
  if (!plan_.sweep_paths.empty()) redraw({"sweep"});
  redrawTrialCharts();
  fillTable();
  fillEvents();
}

// One chart as the engine's data says, into any plot: the screen's (then fitted to it) or a
// fresh one at export size.
bool ResultsView::draw(const QString& name, QCustomPlot& plot) const {
  const auto point = currentPoint();
  const QString at = plan_.points > 1 ? QStringLiteral(" (%1)").arg(pointPicker_->currentText()) : QString();
  const sim::TrialResult* r = nullptr;
  const QVariant index = trialPicker_->currentData();
  for (const auto& x : results_)
    if (index.isValid() && x.index == index.toUInt()) r = &x;
  const QString label = r ? QString::fromStdString(r->label) : tr("no trial yet");
  // Titles without the scenario's name: the window shows it.
  if (name == QLatin1String("comparison"))
    charts::drawComparison(plot, sim::comparison(results_, point), tr("Page-load time per mode") + at);
  else if (name == QLatin1String("breakdown"))
    charts::drawBreakdown(plot, sim::breakdown(results_, point), tr("Where the time went") + at);
  else if (name == QLatin1String("sweep"))
    charts::drawSweep(plot, sim::sweep(plan_, results_), tr("Measured (lines) and predicted (dashed)"));
  else if (name == QLatin1String("waterfall"))
    charts::drawWaterfall(plot, r ? sim::waterfall(*r) : std::vector<sim::WaterfallRow>{}, tr("Waterfall: ") + label);
  else if (name == QLatin1String("connections"))
    charts::drawConnections(plot, r ? r->series : sim::OccupancySeries{},
                            tr("Connections and origin memory: ") + label);
  else
    return false;
  return true;
}

void ResultsView::redraw(const QStringList& names) {
  for (const QString& name : names) {
    QCustomPlot* p = plot(name);
    draw(name, *p);
    fitScreen(*p);
    p->replot();
  }
}

void ResultsView::redrawPointCharts() { redraw({"comparison", "breakdown"}); }
void ResultsView::redrawTrialCharts() { redraw({"waterfall", "connections"}); }

void ResultsView::fillTable() {
  tableModel_->clear();
  QStringList header{tr("trial"), tr("mode"), tr("point"), tr("repetition"), tr("error")};
  const auto descriptors = sim::trial_metric_descriptors();
  for (const auto& d : descriptors)
    header << QString::fromUtf8(d.name.data(), static_cast<int>(d.name.size()));
  header << tr("predicted_tcp_page_load_ms") << tr("predicted_seed_page_load_ms");
  tableModel_->setHorizontalHeaderLabels(header);
  for (int c = 5; c < 5 + static_cast<int>(descriptors.size()); ++c) {
    const auto& d = descriptors[static_cast<std::size_t>(c - 5)];
    tableModel_->horizontalHeaderItem(c)->setToolTip(
        QString::fromUtf8(d.description.data(), static_cast<int>(d.description.size())) + " [" +
        QString::fromUtf8(d.unit.data(), static_cast<int>(d.unit.size())) + "]");
  }
  for (const auto& r : results_) {
    QList<QStandardItem*> row;
    row << numberItem(r.index) << new QStandardItem(QString::fromUtf8(std::string(sim::to_string(r.mode)).c_str()))
        << new QStandardItem(pointName(plan_, r.point)) << numberItem(r.repetition + 1)
        << new QStandardItem(QString::fromStdString(r.error));
    for (const auto& d : descriptors) row << numberItem(d.get(r.metrics));
    row << numberItem(r.predicted_tcp.page_load_ms) << numberItem(r.predicted_seed.page_load_ms);
    tableModel_->appendRow(row);
  }
  tableView_->resizeColumnsToContents();
}

void ResultsView::fillEvents() {
  eventsModel_->clear();
  eventsModel_->setHorizontalHeaderLabels(
      {tr("t ms"), tr("component"), tr("kind"), tr("dir"), tr("conn"), tr("request"), "a", "b", "c"});
  const QVariant index = eventTrialPicker_->currentData();
  const sim::TrialResult* r = nullptr;
  for (const auto& x : results_)
    if (index.isValid() && x.index == index.toUInt()) r = &x;
  if (!r) return;
  const std::int64_t t0 = r->events.empty() ? 0 : r->events.front().t_ns;
  for (const auto& e : r->events) {
    QList<QStandardItem*> row;
    row << numberItem(static_cast<double>(e.t_ns - t0) / 1e6)
        << new QStandardItem(QString::fromUtf8(std::string(sim::to_string(e.component)).c_str()))
        << new QStandardItem(QString::fromUtf8(std::string(sim::kind_name(e)).c_str()))
        << numberItem(e.dir) << numberItem(static_cast<double>(e.conn))
        << numberItem(static_cast<double>(e.request)) << numberItem(static_cast<double>(e.a))
        << numberItem(static_cast<double>(e.b)) << numberItem(static_cast<double>(e.c));
    eventsModel_->appendRow(row);
  }
}

void ResultsView::copyTable() const {
  QModelIndexList rows = tableView_->selectionModel() ? tableView_->selectionModel()->selectedRows()
                                                      : QModelIndexList{};
  QAbstractItemModel* model = tableView_->model();
  if (rows.isEmpty())
    for (int r = 0; r < model->rowCount(); ++r) rows << model->index(r, 0);
  std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
  QStringList lines;
  QStringList header;
  for (int c = 0; c < model->columnCount(); ++c) header << model->headerData(c, Qt::Horizontal).toString();
  lines << header.join('\t');
  for (const QModelIndex& index : rows) {
    QStringList cells;
    for (int c = 0; c < model->columnCount(); ++c)
      cells << model->index(index.row(), c).data().toString();
    lines << cells.join('\t');
  }
  QApplication::clipboard()->setText(lines.join('\n') + '\n');
}

}  // namespace satlink::gui
