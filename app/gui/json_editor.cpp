#include "json_editor.hpp"

#include <QFontDatabase>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QTimer>
#include <QVBoxLayout>

#include "scenario_document.hpp"

namespace satlink::gui {

JsonEditor::JsonEditor(ScenarioDocument* document, QWidget* parent)
    : QWidget(parent),
      document_(document),
      edit_(new QPlainTextEdit(this)),
      errors_(new QListWidget(this)),
      typing_(new QTimer(this)) {
  edit_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  edit_->setLineWrapMode(QPlainTextEdit::NoWrap);
  edit_->setTabChangesFocus(false);
  errors_->setMaximumHeight(120);
  errors_->setObjectName(QStringLiteral("jsonErrors"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(edit_, 1);
  layout->addWidget(errors_);
  typing_->setSingleShot(true);
  typing_->setInterval(400);
  connect(typing_, &QTimer::timeout, this, &JsonEditor::commit);
  connect(edit_, &QPlainTextEdit::textChanged, this, [this] {
    if (!applying_) typing_->start();
  });
  connect(document_, &ScenarioDocument::changed, this, &JsonEditor::refreshFromDocument);
  refreshFromDocument();
}

void JsonEditor::commit() {
  typing_->stop();
  applying_ = true;  // the document's changed() must not rewrite what the user is typing
  document_->setText(edit_->toPlainText());
  applying_ = false;
  showErrors();
}

void JsonEditor::refreshFromDocument() {
  if (applying_) return;
  typing_->stop();
  const QString text = document_->text();
  if (edit_->toPlainText() != text) {
    applying_ = true;
    const int position = edit_->textCursor().position();
    edit_->setPlainText(text);
    QTextCursor cursor = edit_->textCursor();
    cursor.setPosition(std::min(position, static_cast<int>(text.size())));
    edit_->setTextCursor(cursor);
    applying_ = false;
  }
  showErrors();
}

void JsonEditor::showErrors() {
  errors_->clear();
  if (!document_->textError().isEmpty())
    errors_->addItem(tr("Not JSON: %1").arg(document_->textError()));
  for (const auto& e : document_->errors())
    errors_->addItem(QStringLiteral("%1: %2").arg(
        e.path.empty() ? tr("(root)") : QString::fromStdString(e.path), QString::fromStdString(e.reason)));
  errors_->setVisible(errors_->count() > 0);
}

}  // namespace satlink::gui
