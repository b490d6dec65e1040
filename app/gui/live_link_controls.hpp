// Sliders for one link of the live testbed: one-way delay, jitter, loss and the two rates. A
// move changes only its own field of the link's configuration (the rest keeps the scenario's
// exact values) and is sent once the slider rests (debounced), so dragging does not flood the
// engine with changes.
#pragma once

#include <QWidget>

#include "satlink/simulator/link_config.hpp"

class QLabel;
class QSlider;
class QTimer;

namespace satlink::gui {

namespace sim = satlink::simulator;

// "RTT 600 ms, 25/3 Mbit/s, loss 0.1 %": a link in one line, for the diagram.
QString linkDetail(const sim::LinkConfig& config);
// "25 Mbit/s", "512 kbit/s", "unlimited" (0).
QString rateText(double bps);

class LinkControls : public QWidget {
  Q_OBJECT

 public:
  // `name` prefixes the sliders' object names ("clientLink" -> "clientLinkDelay").
  explicit LinkControls(const QString& name, QWidget* parent = nullptr);

  // Shows the link's values; emits nothing.
  void setConfig(const sim::LinkConfig& config);
  const sim::LinkConfig& config() const { return config_; }
  // Milliseconds a change waits for the slider to rest.
  static constexpr int kDebounceMs = 200;

  QSlider* delaySlider() const { return delay_; }
  QSlider* jitterSlider() const { return jitter_; }
  QSlider* lossSlider() const { return loss_; }
  QSlider* rateDownSlider() const { return rateDown_; }
  QSlider* rateUpSlider() const { return rateUp_; }

 signals:
  // After a slider has rested: the configuration to apply.
  void configChanged(const sim::LinkConfig& config);
  // At once on every move (for a display that should follow the finger).
  void previewChanged(const sim::LinkConfig& config);

 private:
  QSlider* addRow(const QString& label, const QString& tip, const QString& objectName,
                  QLabel** value);
  void moved();
  void showValues();

  sim::LinkConfig config_;
  QSlider* delay_ = nullptr;
  QSlider* jitter_ = nullptr;
  QSlider* loss_ = nullptr;
  QSlider* rateDown_ = nullptr;
  QSlider* rateUp_ = nullptr;
  QLabel* delayValue_ = nullptr;
  QLabel* jitterValue_ = nullptr;
  QLabel* lossValue_ = nullptr;
  QLabel* rateDownValue_ = nullptr;
  QLabel* rateUpValue_ = nullptr;
  QLabel* scheduleNote_ = nullptr;
  QTimer* debounce_ = nullptr;
  int rows_ = 0;
};

}  // namespace satlink::gui
