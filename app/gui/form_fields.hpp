// The scenario form's fields: each binds one editor to one JSON path of the document. A field
// shows the document's value (refresh, never writing back), writes the user's edits through a
// commit callback (null = remove the key, the default or preset applies again), and marks its
// editor with the loader's errors. Scalar kinds here; tables, modes and the sweep in
// form_special.hpp.
#pragma once

#include <QObject>
#include <QStringList>
#include <functional>
#include <string>
#include <vector>

#include "form_schema.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace satlink::gui {
class ScenarioDocument;
}

namespace satlink::gui::form {

using Error = satlink::simulator::ScenarioError;
using CommitFn = std::function<void(const std::string& path, const Json& value)>;

// What a refresh reads: the document as written and the values in effect (presets applied).
struct Snapshot {
  const ScenarioDocument* document = nullptr;
  const Json* effective = nullptr;
  Json value(const std::string& path) const;        // null when the document does not set it
  Json effectiveAt(const std::string& path) const;  // null when unknown
};

// A field lives as long as its row widget (it is the row's child), so no signal of a widget
// being destroyed can reach a deleted field.
class Field : public QObject {
 public:
  Field(std::string path, Schema schema, CommitFn onCommit);

  const std::string& path() const { return path_; }
  QWidget* row() const { return row_; }        // what the form layout holds
  QWidget* editor() const { return editor_; }  // named after the path (ScenarioForm::fieldFor)
  virtual void refresh(const Snapshot& s) = 0;
  // The loader's errors at path() or below; none = valid.
  virtual void showErrors(const std::vector<Error>& errors);
  // Scalars can be swept: their paths are offered in the sweep's path box.
  virtual bool isSweepable() const { return false; }

 protected:
  // Wraps the editor (or `content` holding it) in the row, over a red line for errors.
  void setUp(QWidget* editor, QWidget* content = nullptr);
  void commit(const Json& value);
  void commitAt(const std::string& path, const Json& value) { commit_(path, value); }
  // The value in effect when the key is absent (the preset's, else the schema default).
  Json effective(const Snapshot& s) const;
  // Placeholder text: "600 (in effect)" when a preset or rtt_ms gives it, "0 (default)".
  QString hint(const Snapshot& s) const;
  void setErrorLines(const QStringList& lines);
  // Red frame and background, property "invalid", the reasons in the tooltip.
  static void markInvalid(QWidget* w, bool invalid, const QString& tip);

  std::string path_;
  Schema schema_;
  QString tip_;   // description and path: the tooltip when valid
  Json current_;  // the document's value at the last refresh: edits that equal it are not sent

 private:
  CommitFn commit_;
  QWidget* row_ = nullptr;
  QWidget* editor_ = nullptr;
  QLabel* error_ = nullptr;
};

// number / integer: a line edit that takes number syntax only; ranges are the loader's to judge,
// so an out-of-range value reaches the document and is marked with the loader's message.
class NumberField : public Field {
 public:
  NumberField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;
  bool isSweepable() const override { return true; }

 private:
  QString textFor(const Json& v) const;
  QLineEdit* edit_;
};

// string: empty text removes the key.
class TextField : public Field {
 public:
  TextField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;

 private:
  QLineEdit* edit_;
};

// A long string (the scenario's description): written when the editor loses focus.
class LongTextField : public Field {
 public:
  LongTextField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QPlainTextEdit* edit_;
};

// boolean: shows the value in effect; "(default)" beside it while the key is absent; the context
// menu's "Reset to default" removes the key.
class BoolField : public Field {
 public:
  BoolField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;
  bool isSweepable() const override { return true; }

 private:
  QCheckBox* box_;
};

// A choice of strings: item 0 is "absent" (the default or preset in effect, or `noneLabel`),
// then the choices with their descriptions as tooltips. A value the list lacks is shown as an
// extra item, so the form always says what the document holds. Item data: the value as JSON
// text, "" for absent.
class EnumField : public Field {
 public:
  EnumField(std::string path, Schema schema, CommitFn onCommit, std::vector<std::string> values,
            QStringList tips, QString noneLabel = {}, bool showTip = false);
  void refresh(const Snapshot& s) override;
  bool isSweepable() const override { return true; }
  QComboBox* combo() const { return combo_; }

 protected:
  virtual int indexOf(const Json& v) const;
  virtual Json valueAt(int index) const;
  void updateTipLabel();

  QComboBox* combo_;
  int fixedItems_;  // item 0 + the choices (+ any a subclass adds); an unknown value follows
  Json lastEffective_;

 private:
  QString noneLabel_;
  QLabel* tipLabel_ = nullptr;
};

// Anything the schema walk has no editor for (oneOf without a special field): JSON text.
class RawJsonField : public Field {
 public:
  RawJsonField(std::string path, Schema schema, CommitFn onCommit);
  void refresh(const Snapshot& s) override;

 private:
  QLineEdit* edit_;
};

}  // namespace satlink::gui::form
