// The diagram is laid out from the font metrics on every paint, so it follows the user's font,
// the screen's scale and the palette (dark themes) without fixed pixel sizes.
#include "testbed_diagram.hpp"

#include <QEvent>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

namespace satlink::gui {

namespace {

constexpr int kMinLines = 3;  // boxes keep one height as counters appear

QString count(quint64 n) { return QLocale().toString(n); }

QFont titleFont(const QFont& base) {
  QFont f = base;
  f.setBold(true);
  return f;
}

void drawArrow(QPainter& p, QPointF from, QPointF to, const QColor& colour, qreal head) {
  p.setPen(QPen(colour, std::max<qreal>(1.5, head / 5), Qt::SolidLine, Qt::RoundCap));
  p.drawLine(from, to - QPointF(head * 0.6, 0));
  QPainterPath tip;
  tip.moveTo(to);
  tip.lineTo(to - QPointF(head, head * 0.5));
  tip.lineTo(to - QPointF(head, -head * 0.5));
  tip.closeSubpath();
  p.fillPath(tip, colour);
}

}  // namespace

QString humanBytes(quint64 bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1000 && unit < 4) {
    v /= 1000;
    ++unit;
  }
  if (unit == 0) return QStringLiteral("%1 B").arg(bytes);
  return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 2 : v < 100 ? 1 : 0).arg(kUnits[unit]);
}

TestbedDiagram::TestbedDiagram(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  setAccessibleName(tr("Testbed diagram"));
}

void TestbedDiagram::setState(const DiagramState& state) {
  state_ = state;
  updateGeometry();  // a detail may have grown
  update();
}

QList<TestbedDiagram::Box> TestbedDiagram::boxes() const {
  const DiagramState& s = state_;
  QList<Box> out;
  Box browser{tr("Browser"), {tr("connections %1").arg(count(s.browserConnections))}, false};
  if (s.browserOpen > 0) browser.lines << tr("open now %1").arg(count(s.browserOpen));
  browser.lines << tr("requests %1").arg(count(s.requests));
  if (s.clientHandshakes > 0) browser.lines << tr("TLS handshakes %1").arg(count(s.clientHandshakes));
  out << browser;

  Box clientLink{tr("Client link"), {}, true};
  if (!s.clientLinkDetail.isEmpty()) clientLink.lines << s.clientLinkDetail;
  clientLink.lines << tr("%1 down").arg(humanBytes(s.bytesDown));
  out << clientLink;

  if (s.proxy) {
    Box proxy{tr("Proxy"), {tr("opened to origin %1").arg(count(s.proxyServerConnections))}, false};
    if (s.proxyServerReuses > 0) proxy.lines << tr("pooled reuses %1").arg(count(s.proxyServerReuses));
    if (s.serverHandshakes > 0) proxy.lines << tr("TLS to origin %1").arg(count(s.serverHandshakes));
    out << proxy;
  }

  Box serverLink{tr("Server link"), {}, true};
  if (!s.serverLinkDetail.isEmpty()) serverLink.lines << s.serverLinkDetail;
  out << serverLink;

  Box origin{tr("Origin"), {tr("connections %1").arg(count(s.originConnections)),
                            tr("open now %1").arg(count(s.originOpen))},
             false};
  if (s.originRequests > 0) origin.lines << tr("requests %1").arg(count(s.originRequests));
  if (!s.proxy && s.serverHandshakes > 0)
    origin.lines << tr("TLS handshakes %1").arg(count(s.serverHandshakes));
  out << origin;
  return out;
}

int TestbedDiagram::boxHeight() const {
  int lines = kMinLines;
  for (const Box& b : boxes()) lines = std::max(lines, static_cast<int>(b.lines.size()));
  const QFontMetrics title(titleFont(font()));
  const QFontMetrics body(font());
  const int pad = body.height() / 2;
  return 2 * pad + title.height() + pad / 2 + lines * body.lineSpacing();
}

QSize TestbedDiagram::sizeHint() const {
  const QFontMetrics fm(font());
  return {std::max(900, fm.averageCharWidth() * 110), boxHeight() + fm.height()};
}

QSize TestbedDiagram::minimumSizeHint() const {
  const QFontMetrics fm(font());
  return {fm.averageCharWidth() * 60, boxHeight() + fm.height() / 2};
}

void TestbedDiagram::changeEvent(QEvent* event) {
  if (event->type() == QEvent::FontChange || event->type() == QEvent::PaletteChange) {
    updateGeometry();
    update();
  }
  QWidget::changeEvent(event);
}

void TestbedDiagram::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::TextAntialiasing);
  const QList<Box> list = boxes();
  const QFont title = titleFont(font());
  const QFontMetrics titleMetrics(title);
  const QFontMetrics body(font());
  const int pad = body.height() / 2;
  const qreal gap = std::max(2.5 * body.averageCharWidth(), 18.0);  // room for an arrow
  const qreal margin = pad / 2.0;

  // Links get a little more room: their detail line is the longest text.
  qreal weights = 0;
  for (const Box& b : list) weights += b.link ? 1.25 : 1.0;
  const qreal usable = width() - 2 * margin - gap * (list.size() - 1);
  const qreal unit = std::max<qreal>(usable / weights, 1);
  const int h = std::min(boxHeight(), height() - 2 * static_cast<int>(margin));
  const qreal top = (height() - h) / 2.0;

  const QPalette& pal = palette();
  const QColor text = pal.color(QPalette::WindowText);
  const QColor endpointFill = pal.color(QPalette::Base);
  const QColor border = pal.color(QPalette::Mid);
  QColor linkFill = pal.color(QPalette::Highlight);
  linkFill.setAlpha(38);
  const QColor linkBorder = pal.color(QPalette::Highlight);
  const qreal radius = pad * 0.8;

  qreal x = margin;
  for (int i = 0; i < list.size(); ++i) {
    const Box& b = list[i];
    const QRectF r(x, top, unit * (b.link ? 1.25 : 1.0), h);
    if (b.link) {
      p.setPen(QPen(linkBorder, 1.5, Qt::DashLine));
      p.setBrush(linkFill);
    } else {
      p.setPen(QPen(border, 1.5));
      p.setBrush(endpointFill);
    }
    p.drawRoundedRect(r.adjusted(0.75, 0.75, -0.75, -0.75), radius, radius);

    const int textWidth = std::max(0, static_cast<int>(r.width()) - pad);
    const int left = static_cast<int>(r.left()) + pad / 2;
    int y = static_cast<int>(top) + pad;
    p.setPen(text);
    p.setFont(title);
    p.drawText(QRect(left, y, textWidth, titleMetrics.height()), Qt::AlignHCenter | Qt::AlignTop,
               titleMetrics.elidedText(b.title, Qt::ElideRight, textWidth));
    y += titleMetrics.height() + pad / 2;
    p.setFont(font());
    for (const QString& line : b.lines) {
      if (y + body.height() > top + h) break;  // too short a widget: drop what does not fit
      p.drawText(QRect(left, y, textWidth, body.height()), Qt::AlignHCenter | Qt::AlignTop,
                 body.elidedText(line, Qt::ElideRight, textWidth));
      y += body.lineSpacing();
    }

    x = r.right();
    if (i + 1 < list.size()) {
      const qreal mid = top + h / 2.0;
      drawArrow(p, QPointF(x + gap * 0.15, mid), QPointF(x + gap * 0.85, mid), text,
                std::min(gap * 0.45, body.height() * 0.6));
    }
    x += gap;
  }
}

}  // namespace satlink::gui
