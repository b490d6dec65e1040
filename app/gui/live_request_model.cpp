#include "live_request_model.hpp"

#include <QBrush>
#include <QColor>

#include "testbed_diagram.hpp"

namespace satlink::gui {

LiveRequestModel::LiveRequestModel(QObject* parent) : QAbstractTableModel(parent) {}

void LiveRequestModel::reset(std::int64_t startNs) {
  beginResetModel();
  rows_.clear();
  startNs_ = startNs;
  endResetModel();
}

void LiveRequestModel::append(const std::vector<sim::LiveRequest>& rows) {
  if (rows.empty()) return;
  // Only the newest maxRows_ of the batch can survive; older ones never enter the model.
  const std::size_t keep = std::min(rows.size(), static_cast<std::size_t>(maxRows_));
  const int overflow = static_cast<int>(rows_.size() + keep) - maxRows_;
  if (overflow > 0) {
    beginRemoveRows({}, 0, overflow - 1);
    rows_.erase(rows_.begin(), rows_.begin() + overflow);
    endRemoveRows();
  }
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(keep) - 1);
  rows_.insert(rows_.end(), rows.end() - static_cast<std::ptrdiff_t>(keep), rows.end());
  endInsertRows();
}

int LiveRequestModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int LiveRequestModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : Count;
}

QVariant LiveRequestModel::display(const sim::LiveRequest& r, int column) const {
  switch (column) {
    case Time: return QString::number((r.start_ns - startNs_) / 1e9, 'f', 3);
    case Connection: return QStringLiteral("#%1").arg(r.connection);
    case Request: return r.index;
    case Reuse: return r.reused() ? tr("reused") : tr("new");
    case Origin:
      if (r.server_connection == 0) return QStringLiteral("—");
      return QStringLiteral("#%1 %2").arg(r.server_connection).arg(r.server_reused ? tr("pooled")
                                                                                    : tr("new"));
    case Status: return r.status == 0 ? QVariant(QStringLiteral("—")) : QVariant(r.status);
    case Bytes: return humanBytes(r.bytes);
    case Duration:
      return r.end_ns < 0 ? tr("incomplete") : QString::number(r.duration_ms(), 'f', 1);
    case Error: return QString::fromStdString(r.error);
    default: return {};
  }
}

QVariant LiveRequestModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  const sim::LiveRequest& r = rows_[static_cast<std::size_t>(index.row())];
  if (role == Qt::DisplayRole) return display(r, index.column());
  if (role == Qt::TextAlignmentRole) {
    const bool numeric = index.column() == Time || index.column() == Request ||
                         index.column() == Bytes || index.column() == Duration ||
                         index.column() == Status;
    return QVariant::fromValue(Qt::Alignment(numeric ? Qt::AlignRight | Qt::AlignVCenter
                                                     : Qt::AlignLeft | Qt::AlignVCenter));
  }
  if (role == Qt::ForegroundRole && (r.status >= 400 || !r.error.empty() || r.end_ns < 0))
    return QBrush(QColor(200, 40, 40));  // a failure stands out on light and dark palettes
  if (role == Qt::ToolTipRole && index.column() == Time)
    return tr("seconds since the testbed started, when the request head arrived");
  return {};
}

QVariant LiveRequestModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation == Qt::Vertical || (role != Qt::DisplayRole && role != Qt::ToolTipRole)) return {};
  static const char* const kNames[] = {
      QT_TR_NOOP("Time (s)"), QT_TR_NOOP("Browser conn."), QT_TR_NOOP("#"),
      QT_TR_NOOP("Set-up"), QT_TR_NOOP("Origin conn."), QT_TR_NOOP("Status"),
      QT_TR_NOOP("Bytes"), QT_TR_NOOP("Duration (ms)"), QT_TR_NOOP("Error")};
  static const char* const kTips[] = {
      QT_TR_NOOP("When the request head arrived, since the testbed started"),
      QT_TR_NOOP("The browser's connection (as the proxy, or the origin without one, numbers it)"),
      QT_TR_NOOP("The request's place on its connection"),
      QT_TR_NOOP("new: the first request of its connection; reused: keep-alive saved a set-up"),
      QT_TR_NOOP("The proxy's connection to the origin: opened for it, or taken from the pool"),
      QT_TR_NOOP("HTTP status sent to the browser"),
      QT_TR_NOOP("Response body bytes"),
      QT_TR_NOOP("Request head received to last response byte sent"),
      QT_TR_NOOP("The proxy's error, if any")};
  if (section < 0 || section >= Count) return {};
  return tr(role == Qt::DisplayRole ? kNames[section] : kTips[section]);
}

}  // namespace satlink::gui
