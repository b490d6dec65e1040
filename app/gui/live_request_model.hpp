// The live panel's request log: the engine's finished request rows (LiveTestbed::requests_since),
// newest at the bottom, bounded so that a testbed left running for hours stays light.
#pragma once

#include <QAbstractTableModel>
#include <deque>
#include <vector>

#include "satlink/simulator/live_testbed.hpp"

namespace satlink::gui {

namespace sim = satlink::simulator;

class LiveRequestModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Time, Connection, Request, Reuse, Origin, Status, Bytes, Duration, Error, Count };

  explicit LiveRequestModel(QObject* parent = nullptr);

  // Steady-clock time of the testbed's start (the Time column is relative to it).
  void reset(std::int64_t startNs);
  // Appends, dropping the oldest rows beyond maxRows().
  void append(const std::vector<sim::LiveRequest>& rows);
  int maxRows() const { return maxRows_; }
  void setMaxRows(int rows) { maxRows_ = rows; }
  const sim::LiveRequest& request(int row) const { return rows_[static_cast<std::size_t>(row)]; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  QVariant display(const sim::LiveRequest& r, int column) const;

  std::deque<sim::LiveRequest> rows_;
  std::int64_t startNs_ = 0;
  int maxRows_ = 1000;
};

}  // namespace satlink::gui
