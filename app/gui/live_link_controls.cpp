#include "live_link_controls.hpp"

#include <QGridLayout>
#include <QLabel>
#include <QSlider>
#include <QTimer>
#include <array>
#include <cmath>

namespace satlink::gui {

namespace {

// Rates people quote (3, 25, 100 Mbit/s...) from 100 kbit/s to 1 Gbit/s; position 0 of a rate
// slider is "unlimited". A log scale: a linear one would crowd every DSL and satellite rate
// into its first pixels.
const std::vector<double>& rateSteps() {
  static const std::vector<double> steps = [] {
    std::vector<double> s;
    for (double decade : {1e5, 1e6, 1e7, 1e8})
      for (double m : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0}) s.push_back(decade * m);
    s.push_back(1e9);
    return s;
  }();
  return steps;
}

int ratePosition(double bps) {
  if (bps <= 0) return 0;
  const auto& steps = rateSteps();
  int best = 0;
  for (std::size_t i = 1; i < steps.size(); ++i)
    if (std::abs(std::log(steps[i] / bps)) < std::abs(std::log(steps[best] / bps)))
      best = static_cast<int>(i);
  return best + 1;
}

double rateAt(int position) {
  return position <= 0 ? 0 : rateSteps()[static_cast<std::size_t>(position - 1)];
}

QString ms(double v) { return QString::number(v, 'g', 5) + QStringLiteral(" ms"); }

// Loss in the slider's unit (0.01 %), so 0.1 % GEO and 1 % LTE both sit on a step.
constexpr double kLossStep = 1e-4;
constexpr int kLossMax = 1000;  // 10 %: beyond it TCP is no longer the question

}  // namespace

QString rateText(double bps) {
  if (bps <= 0) return QObject::tr("unlimited");
  if (bps >= 1e6) return QString::number(bps / 1e6, 'g', 4) + QStringLiteral(" Mbit/s");
  if (bps >= 1e3) return QString::number(bps / 1e3, 'g', 4) + QStringLiteral(" kbit/s");
  return QString::number(bps, 'g', 4) + QStringLiteral(" bit/s");
}

QString linkDetail(const sim::LinkConfig& c) {
  QString out = QObject::tr("RTT %1").arg(ms(c.rtt_ms()));
  const double down = c.down.rate_bps, up = c.up.rate_bps;
  if (down > 0 && up > 0 && down >= 1e6 && up >= 1e6) {
    out += QStringLiteral(", %1/%2 Mbit/s")
               .arg(QString::number(down / 1e6, 'g', 4), QString::number(up / 1e6, 'g', 4));
  } else if (down > 0 || up > 0) {
    out += QStringLiteral(", %1/%2").arg(rateText(down), rateText(up));
  }
  const double jitter = std::max(c.up.jitter.ms, c.down.jitter.ms);
  if (jitter > 0) out += QObject::tr(", jitter %1").arg(ms(jitter));
  const double loss = std::max(c.up.loss.rate, c.down.loss.rate);
  if (loss > 0) out += QObject::tr(", loss %1 %").arg(QString::number(loss * 100, 'g', 3));
  return out;
}

LinkControls::LinkControls(const QString& name, QWidget* parent)
    : QWidget(parent), debounce_(new QTimer(this)) {
  auto* grid = new QGridLayout(this);
  grid->setColumnStretch(1, 1);
  grid->setVerticalSpacing(fontMetrics().height() / 5);
  delay_ = addRow(tr("Delay"), tr("One-way propagation delay, both directions (RTT is twice it)"),
                  name + "Delay", &delayValue_);
  jitter_ = addRow(tr("Jitter"), tr("Added per chunk, both directions; never reorders bytes"),
                   name + "Jitter", &jitterValue_);
  loss_ = addRow(tr("Loss"),
                 tr("Segments lost, both directions: TCP retransmits them, so they arrive late"),
                 name + "Loss", &lossValue_);
  rateDown_ = addRow(tr("Rate down"), tr("Bottleneck towards the browser; far left: unlimited"),
                     name + "RateDown", &rateDownValue_);
  rateUp_ = addRow(tr("Rate up"), tr("Bottleneck towards the origin; far left: unlimited"),
                   name + "RateUp", &rateUpValue_);
  scheduleNote_ = new QLabel(tr("This link has a delay schedule: its points override the delay "
                                "above."));
  scheduleNote_->setWordWrap(true);
  scheduleNote_->setVisible(false);
  grid->addWidget(scheduleNote_, rows_++, 0, 1, 2);
  grid->setRowStretch(rows_, 1);

  delay_->setRange(0, 1000);
  jitter_->setRange(0, 200);
  loss_->setRange(0, kLossMax);
  rateDown_->setRange(0, static_cast<int>(rateSteps().size()));
  rateUp_->setRange(0, static_cast<int>(rateSteps().size()));
  delay_->setPageStep(50);
  jitter_->setPageStep(10);
  loss_->setPageStep(10);

  connect(delay_, &QSlider::valueChanged, this, [this](int v) {
    config_.up.delay_ms = config_.down.delay_ms = v;
    moved();
  });
  connect(jitter_, &QSlider::valueChanged, this, [this](int v) {
    config_.up.jitter.ms = config_.down.jitter.ms = v;
    moved();
  });
  connect(loss_, &QSlider::valueChanged, this, [this](int v) {
    config_.up.loss.rate = config_.down.loss.rate = v * kLossStep;
    moved();
  });
  connect(rateDown_, &QSlider::valueChanged, this, [this](int v) {
    config_.down.rate_bps = rateAt(v);
    moved();
  });
  connect(rateUp_, &QSlider::valueChanged, this, [this](int v) {
    config_.up.rate_bps = rateAt(v);
    moved();
  });
  debounce_->setSingleShot(true);
  debounce_->setInterval(kDebounceMs);
  connect(debounce_, &QTimer::timeout, this, [this] { emit configChanged(config_); });
  showValues();
}

// A row of name and value, the slider under them at full width: the panel's link column is
// narrow, and a slider needs length more than the value needs a column.
QSlider* LinkControls::addRow(const QString& label, const QString& tip, const QString& objectName,
                              QLabel** value) {
  auto* grid = static_cast<QGridLayout*>(layout());
  auto* name = new QLabel(label);
  auto* slider = new QSlider(Qt::Horizontal);
  slider->setObjectName(objectName);
  slider->setToolTip(tip);
  name->setToolTip(tip);
  name->setBuddy(slider);
  *value = new QLabel;
  (*value)->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
  (*value)->setTextInteractionFlags(Qt::TextSelectableByMouse);
  grid->addWidget(name, rows_, 0);
  grid->addWidget(*value, rows_, 1);
  grid->addWidget(slider, rows_ + 1, 0, 1, 2);
  rows_ += 2;
  return slider;
}

void LinkControls::setConfig(const sim::LinkConfig& config) {
  debounce_->stop();  // a pending change of the previous link must not land on this one
  config_ = config;
  const auto place = [](QSlider* s, double v) {
    const QSignalBlocker block(s);
    const int position = static_cast<int>(std::lround(v));
    if (position > s->maximum()) s->setMaximum(position);  // a scenario beyond the usual range
    s->setValue(position);
  };
  place(delay_, (config.up.delay_ms + config.down.delay_ms) / 2);
  place(jitter_, std::max(config.up.jitter.ms, config.down.jitter.ms));
  place(loss_, std::max(config.up.loss.rate, config.down.loss.rate) / kLossStep);
  place(rateDown_, ratePosition(config.down.rate_bps));
  place(rateUp_, ratePosition(config.up.rate_bps));
  scheduleNote_->setVisible(!config.schedule.points.empty());
  showValues();
}

void LinkControls::moved() {
  showValues();
  emit previewChanged(config_);
  debounce_->start();
}

// What is in force, not the slider's position: until a slider moves, the scenario's exact
// values (an asymmetric delay, a rate between two steps) are shown as they are.
void LinkControls::showValues() {
  const sim::Direction& up = config_.up;
  const sim::Direction& down = config_.down;
  delayValue_->setText(up.delay_ms == down.delay_ms
                           ? tr("%1 (RTT %2)").arg(ms(up.delay_ms), ms(config_.rtt_ms()))
                           : tr("up %1 / down %2").arg(ms(up.delay_ms), ms(down.delay_ms)));
  jitterValue_->setText(up.jitter.ms == down.jitter.ms
                            ? ms(up.jitter.ms)
                            : tr("up %1 / down %2").arg(ms(up.jitter.ms), ms(down.jitter.ms)));
  const auto percent = [](double rate) { return QString::number(rate * 100, 'g', 3) + " %"; };
  lossValue_->setText(up.loss.rate == down.loss.rate
                          ? percent(up.loss.rate)
                          : tr("up %1 / down %2").arg(percent(up.loss.rate), percent(down.loss.rate)));
  rateDownValue_->setText(rateText(down.rate_bps));
  rateUpValue_->setText(rateText(up.rate_bps));
}

}  // namespace satlink::gui
