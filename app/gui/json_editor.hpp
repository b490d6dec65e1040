// The raw JSON tab: the same document as the form, editable, validated as you type (after a
// short pause), with the loader's errors listed under the text.
#pragma once

#include <QWidget>

class QPlainTextEdit;
class QListWidget;
class QTimer;

namespace satlink::gui {

class ScenarioDocument;

class JsonEditor : public QWidget {
  Q_OBJECT

 public:
  explicit JsonEditor(ScenarioDocument* document, QWidget* parent = nullptr);
  QPlainTextEdit* editor() const { return edit_; }
  QListWidget* errorList() const { return errors_; }
  // Applies pending typing now (the timer would, after a pause).
  void commit();

 private:
  void refreshFromDocument();
  void showErrors();

  ScenarioDocument* document_;
  QPlainTextEdit* edit_;
  QListWidget* errors_;
  QTimer* typing_;
  bool applying_ = false;
};

}  // namespace satlink::gui
