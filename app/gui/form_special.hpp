// The scenario form's fields that a scalar editor cannot carry: origin keep-alive (a preset name
// or an object), the experiment's modes (checkboxes), arrays of objects (the page's resources,
// a link's delay schedule) as tables, the page's resource source (listed or generated), and the
// sweep (up to two axes, each a path with values or a range).
#pragma once

#include <array>
#include <functional>

#include "form_fields.hpp"

class QPushButton;
class QTableWidget;

namespace satlink::gui::form {

// origin.keep_alive: "(default)", the presets nginx/apache/off, or "custom", which writes the
// object in effect (the preset's figures) for the fields below to edit. Those fields accept
// edits only while the value is an object or absent (a path into a string cannot be written).
class OriginKeepAliveField : public EnumField {
 public:
  OriginKeepAliveField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;
  void setObjectFields(QWidget* fields) { objectFields_ = fields; }

 protected:
  int indexOf(const Json& v) const override;
  Json valueAt(int index) const override;

 private:
  QWidget* objectFields_ = nullptr;
};

// experiment.modes: one checkbox per mode; absent = all five. Edits keep the file's order and
// append a newly ticked mode.
class ModesField : public Field {
 public:
  ModesField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;

 private:
  void toggle(const std::string& mode, bool on);
  std::vector<std::pair<std::string, QCheckBox*>> boxes_;
  std::vector<std::string> all_;
  QLabel* note_;
};

// An array of objects as a table: a column per key (dotted keys reach into an item:
// "think.ms"), a row per item, numbered from 0 as the loader's paths count. Cell edits write
// that key; Add appends `newItem(items)`; Remove drops the selected rows (else the last).
class TableField : public Field {
 public:
  struct Column {
    std::string key;
    QString title;
    bool numeric;
  };
  using NewItem = std::function<Json(const Json& items)>;
  TableField(std::string path, Schema schema, CommitFn onCommit, std::vector<Column> columns,
             NewItem newItem);
  void refresh(const Snapshot& s) override;
  void showErrors(const std::vector<Error>& errors) override;
  QTableWidget* table() const { return table_; }

 private:
  void cellEdited(int row, int column);
  void removeRows();
  QTableWidget* table_;
  QPushButton* remove_;
  std::vector<Column> columns_;
  NewItem newItem_;
};

// Whether the page lists its resources or generates them; switching converts one into the
// other in a single edit (the generated list becomes editable rows, a list becomes a count and a
// size range) and shows the matching editor.
class PageSourceField : public Field {
 public:
  PageSourceField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;
  void setTargets(QWidget* listed, QWidget* generated);

 private:
  void switchTo(bool generated);
  QComboBox* combo_;
  QWidget* listed_ = nullptr;
  QWidget* generated_ = nullptr;
  Json page_;
  Json resolved_;  // the loaded page's resources (the generated ones, when generate is used)
};

// experiment.sweep: up to two axes; each a path (a box offering the form's scalar paths) and
// either a list of values ("50, 300, 600"; JSON, or text taken as strings) or from/to/step.
class SweepField : public Field {
 public:
  SweepField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;
  void showErrors(const std::vector<Error>& errors) override;
  void setSuggestions(const QStringList& paths);

 private:
  struct Axis {
    QWidget* box = nullptr;
    QComboBox* path = nullptr;
    QComboBox* kind = nullptr;
    QLineEdit* values = nullptr;
    QWidget* range = nullptr;
    QLineEdit* from = nullptr;
    QLineEdit* to = nullptr;
    QLineEdit* step = nullptr;
  };
  QWidget* buildAxis(int index);
  Json axes() const;
  // Applies `change` to axis `index` of the document's sweep and writes the whole list.
  void editAxis(int index, const std::function<void(Json& axis)>& change);
  void commitPath(int index);
  void commitValues(int index);
  void commitRange(int index, const char* key, QLineEdit* edit);
  void switchKind(int index, bool range);
  void addAxis();
  void removeAxis(int index);

  std::array<Axis, 2> axes_;
  QPushButton* add_;
  Json effective_;                // the scenario in effect: default values for a new axis
  std::array<Json, 2> expanded_;  // each axis's values as loaded (a range expanded)
};

}  // namespace satlink::gui::form
