// The testbed as a person draws it: browser -> client link -> proxy -> server link -> origin,
// with counters on each hop. The main window feeds it during an experiment run (totals of the
// trials so far), the live panel while the live testbed serves. Painting only.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

namespace satlink::gui {

struct DiagramState {
  bool proxy = true;  // false: the no-proxy baseline, drawn without the proxy box
  QString clientLinkDetail;  // "RTT 600 ms, 25/3 Mbit/s" (the link's current delay)
  QString serverLinkDetail;
  quint64 browserConnections = 0;      // opened by the browser (through the client link)
  quint64 proxyServerConnections = 0;  // opened by the proxy towards the origin
  quint64 originConnections = 0;       // accepted by the origin
  quint64 originOpen = 0;              // open at the origin now
  quint64 requests = 0;
  quint64 bytesDown = 0;
  quint64 clientHandshakes = 0;  // TLS handshakes on the browser's side
  quint64 serverHandshakes = 0;  // TLS handshakes towards the origin
  // Optional extras (shown when non-zero, so a caller that does not know them loses nothing).
  quint64 browserOpen = 0;         // browser connections open now (the client link's)
  quint64 proxyServerReuses = 0;   // requests the proxy sent on an idle pooled connection
  quint64 originRequests = 0;      // requests that reached the origin
};

// "1.2 MB", "850 B", "3.4 GB" (decimal units, as browsers' dev tools show transfer sizes).
QString humanBytes(quint64 bytes);

class TestbedDiagram : public QWidget {
  Q_OBJECT

 public:
  explicit TestbedDiagram(QWidget* parent = nullptr);
  void setState(const DiagramState& state);
  const DiagramState& state() const { return state_; }
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

  // One box of the drawing: its title and counter lines, from the browser's side (for tests
  // and accessibility: the same text is painted).
  struct Box {
    QString title;
    QStringList lines;
    bool link = false;  // an emulated link (drawn dashed), else an endpoint
  };
  QList<Box> boxes() const;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  int boxHeight() const;

  DiagramState state_;
};

}  // namespace satlink::gui
