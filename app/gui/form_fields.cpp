#include "form_fields.hpp"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include "scenario_document.hpp"

namespace satlink::gui::form {

Json Snapshot::value(const std::string& path) const {
  return document->value(path);
}

Json Snapshot::effectiveAt(const std::string& path) const {
  return effective ? valueAt(*effective, path) : Json();
}

Field::Field(std::string path, Schema schema, CommitFn onCommit)
    : path_(std::move(path)), schema_(std::move(schema)), commit_(std::move(onCommit)) {
  tip_ = descriptionOf(schema_);
  tip_ += (tip_.isEmpty() ? QString() : QStringLiteral("\n\n")) + QString::fromStdString(path_);
}

void Field::setUp(QWidget* editor, QWidget* content) {
  editor_ = editor;
  editor_->setObjectName(QString::fromStdString(path_));
  editor_->setToolTip(tip_);
  row_ = new QWidget;
  auto* box = new QVBoxLayout(row_);
  box->setContentsMargins(0, 0, 0, 0);
  box->setSpacing(1);
  box->addWidget(content ? content : editor);
  error_ = new QLabel(row_);
  error_->setObjectName(QString::fromStdString(path_) + QStringLiteral("#error"));
  error_->setWordWrap(true);
  error_->setTextFormat(Qt::PlainText);
  QPalette pal = error_->palette();
  pal.setColor(QPalette::WindowText, QColor(0xc6, 0x28, 0x28));
  error_->setPalette(pal);
  error_->hide();
  box->addWidget(error_);
  setParent(row_);
}

void Field::commit(const Json& value) {
  commit_(path_, value);
}

Json Field::effective(const Snapshot& s) const {
  Json eff = s.effectiveAt(path_);
  return eff.is_null() ? defaultOf(schema_) : eff;
}

QString Field::hint(const Snapshot& s) const {
  const Json eff = s.effectiveAt(path_);
  const Json def = defaultOf(schema_);
  if (!eff.is_null() && !eff.is_object() && !eff.is_array())
    return displayText(eff) + (def.is_null() || eff != def ? QStringLiteral(" (in effect)")
                                                           : QStringLiteral(" (default)"));
  if (!def.is_null() && !def.is_object() && !def.is_array()) {
    const QString text = displayText(def);
    return text.isEmpty() ? QStringLiteral("(default: empty)")
                          : text + QStringLiteral(" (default)");
  }
  return {};
}

void Field::setErrorLines(const QStringList& lines) {
  error_->setText(lines.join(QLatin1Char('\n')));
  error_->setVisible(!lines.isEmpty());
}

void Field::markInvalid(QWidget* w, bool invalid, const QString& tip) {
  if (w->property("invalid").toBool() != invalid) {
    // Selected by the property, so the style reaches neither a combo's popup list nor the
    // children of a container; setting the sheet re-polishes the widget.
    w->setProperty("invalid", invalid);
    w->setStyleSheet(invalid ? QStringLiteral("[invalid=\"true\"] { border: 1px solid #d32f2f; "
                                              "background-color: #fdecea; border-radius: 2px; }")
                             : QString());
  }
  w->setToolTip(tip);
}

void Field::showErrors(const std::vector<Error>& errors) {
  QStringList lines;
  for (const Error& e : errors) {
    // Below the field's own path, say where ("[2].size: ..."); at it, the reason is enough.
    const std::string where = e.path.size() > path_.size() ? e.path.substr(path_.size()) : "";
    lines << QString::fromStdString((where.empty() ? "" : where + ": ") + e.reason);
  }
  markInvalid(editor_, !lines.isEmpty(),
              lines.isEmpty() ? tip_ : tip_ + QStringLiteral("\n\n") + lines.join('\n'));
  setErrorLines(lines);
}

// ---- NumberField

NumberField::NumberField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  edit_ = new QLineEdit;
  // Number syntax only: the range is the loader's to check, so its message reaches the field.
  const bool integer = typeOf(schema_) == "integer";
  const QRegularExpression re(integer ? QStringLiteral("-?[0-9]*")
                                      : QStringLiteral("-?[0-9]*\\.?[0-9]*([eE][-+]?[0-9]*)?"));
  edit_->setValidator(new QRegularExpressionValidator(re, edit_));
  edit_->setClearButtonEnabled(false);
  setUp(edit_);
  QObject::connect(edit_, &QLineEdit::editingFinished, this, [this] {
    if (edit_->text() == textFor(current_)) return;
    const Json v = parseNumber(edit_->text());
    if (v != current_) commit(v);
  });
}

QString NumberField::textFor(const Json& v) const {
  // A non-number in the document is shown as JSON ("\"fast\""), so it reads as what it is.
  return v.is_number() || v.is_null() ? displayText(v) : QString::fromStdString(v.dump());
}

void NumberField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  edit_->setPlaceholderText(hint(s));
  const QString text = textFor(current_);
  // Leave text that already means the document's value alone: the cursor of a field being
  // typed in stays where it is when its own edit comes back from the document.
  if (edit_->text() == text || (current_.is_number() && parseNumber(edit_->text()) == current_))
    return;
  const QSignalBlocker block(edit_);
  const int cursor = edit_->cursorPosition();
  edit_->setText(text);
  // Focused: the cursor stays; otherwise show a long text from its start, not its end.
  edit_->setCursorPosition(edit_->hasFocus() ? std::min(cursor, int(text.size())) : 0);
}

// ---- TextField

TextField::TextField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  edit_ = new QLineEdit;
  setUp(edit_);
  QObject::connect(edit_, &QLineEdit::editingFinished, this, [this] {
    const Json v = edit_->text().isEmpty() ? Json() : Json(edit_->text().toStdString());
    if (v != current_) commit(v);
  });
}

void TextField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  // An empty default says nothing; the description says what to write.
  const Json def = defaultOf(schema_);
  edit_->setPlaceholderText(def == Json("") ? descriptionOf(schema_) : hint(s));
  const QString text = current_.is_string() || current_.is_null()
                           ? displayText(current_)
                           : QString::fromStdString(current_.dump());
  if (edit_->text() == text) return;
  const QSignalBlocker block(edit_);
  const int cursor = edit_->cursorPosition();
  edit_->setText(text);
  // Focused: the cursor stays; otherwise show a long text from its start, not its end.
  edit_->setCursorPosition(edit_->hasFocus() ? std::min(cursor, int(text.size())) : 0);
}

// ---- LongTextField

LongTextField::LongTextField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  edit_ = new QPlainTextEdit;
  edit_->setTabChangesFocus(true);
  const int line = edit_->fontMetrics().lineSpacing();
  edit_->setFixedHeight(line * 4 + 10);
  setUp(edit_);
  edit_->installEventFilter(this);
}

bool LongTextField::eventFilter(QObject* watched, QEvent* event) {
  if (watched == edit_ && event->type() == QEvent::FocusOut) {
    const QString text = edit_->toPlainText();
    const Json v = text.isEmpty() ? Json() : Json(text.toStdString());
    if (v != current_) commit(v);
  }
  return Field::eventFilter(watched, event);
}

void LongTextField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  edit_->setPlaceholderText(descriptionOf(schema_));
  const QString text = current_.is_string() || current_.is_null()
                           ? displayText(current_)
                           : QString::fromStdString(current_.dump());
  if (edit_->toPlainText() == text) return;
  const QSignalBlocker block(edit_);
  edit_->setPlainText(text);
}

// ---- BoolField

BoolField::BoolField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  box_ = new QCheckBox;
  auto* reset = new QAction(QStringLiteral("Reset to default"), box_);
  box_->addAction(reset);
  box_->setContextMenuPolicy(Qt::ActionsContextMenu);
  tip_ += QStringLiteral("\nRight-click: reset to the default.");
  setUp(box_);
  QObject::connect(box_, &QCheckBox::toggled, this, [this](bool on) {
    if (Json(on) != current_) commit(on);
  });
  QObject::connect(reset, &QAction::triggered, this, [this] {
    if (!current_.is_null()) commit(nullptr);
  });
}

void BoolField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  const Json eff = effective(s);
  const QSignalBlocker block(box_);
  if (current_.is_boolean()) {
    box_->setChecked(current_.get<bool>());
    box_->setText(QString());
  } else if (current_.is_null()) {
    box_->setChecked(eff.is_boolean() && eff.get<bool>());
    const Json def = defaultOf(schema_);
    box_->setText(def.is_boolean() && eff == def ? QStringLiteral("(default)")
                                                 : QStringLiteral("(in effect)"));
  } else {
    box_->setChecked(false);
    box_->setText(QString::fromStdString(current_.dump()));
  }
}

// ---- EnumField

EnumField::EnumField(std::string path, Schema schema, CommitFn onCommit,
                     std::vector<std::string> values, QStringList tips, QString noneLabel,
                     bool showTip)
    : Field(std::move(path), std::move(schema), std::move(onCommit)),
      noneLabel_(std::move(noneLabel)) {
  combo_ = new QComboBox;
  combo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  combo_->setMinimumContentsLength(8);
  combo_->addItem(noneLabel_.isEmpty() ? QStringLiteral("(default)") : noneLabel_, QString());
  for (std::size_t i = 0; i < values.size(); ++i) {
    combo_->addItem(QString::fromStdString(values[i]),
                    QString::fromStdString(Json(values[i]).dump()));
    if (int(i) < tips.size()) combo_->setItemData(int(i) + 1, tips[int(i)], Qt::ToolTipRole);
  }
  fixedItems_ = combo_->count();
  QWidget* content = nullptr;
  if (showTip) {
    // The chosen preset's one-line description, so the user sees what it stands for.
    content = new QWidget;
    auto* box = new QVBoxLayout(content);
    box->setContentsMargins(0, 0, 0, 0);
    box->setSpacing(0);
    box->addWidget(combo_);
    tipLabel_ = new QLabel(content);
    tipLabel_->setWordWrap(true);
    tipLabel_->setForegroundRole(QPalette::PlaceholderText);
    QFont small = tipLabel_->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    tipLabel_->setFont(small);
    box->addWidget(tipLabel_);
  }
  setUp(combo_, content);
  QObject::connect(combo_, &QComboBox::currentIndexChanged, this, [this](int index) {
    updateTipLabel();
    if (index < 0) return;
    const Json v = valueAt(index);
    if (v != current_) commit(v);
  });
}

int EnumField::indexOf(const Json& v) const {
  if (v.is_null()) return 0;
  return combo_->findData(QString::fromStdString(v.dump()));
}

Json EnumField::valueAt(int index) const {
  const QString data = combo_->itemData(index).toString();
  return data.isEmpty() ? Json() : Json::parse(data.toStdString(), nullptr, false);
}

void EnumField::updateTipLabel() {
  if (!tipLabel_) return;
  const QString tip = combo_->itemData(combo_->currentIndex(), Qt::ToolTipRole).toString();
  tipLabel_->setText(tip);
  tipLabel_->setVisible(!tip.isEmpty());
}

void EnumField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  lastEffective_ = s.effectiveAt(path_);
  const QSignalBlocker block(combo_);
  if (noneLabel_.isEmpty()) {
    const QString h = hint(s);
    combo_->setItemText(0, h.isEmpty() ? QStringLiteral("(default)") : h);
  }
  while (combo_->count() > fixedItems_) combo_->removeItem(combo_->count() - 1);
  int index = indexOf(current_);
  if (index < 0) {
    combo_->addItem(QString::fromStdString(current_.dump()) + QStringLiteral(" (unknown)"),
                    QString::fromStdString(current_.dump()));
    index = combo_->count() - 1;
  }
  combo_->setCurrentIndex(index);
  updateTipLabel();
}

// ---- RawJsonField

RawJsonField::RawJsonField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  edit_ = new QLineEdit;
  tip_ += QStringLiteral("\nJSON: text that is not JSON is taken as a string.");
  setUp(edit_);
  QObject::connect(edit_, &QLineEdit::editingFinished, this, [this] {
    const std::string text = edit_->text().trimmed().toStdString();
    const Json v = text.empty() ? Json() : satlink::simulator::parse_override_value(text);
    if (v != current_) commit(v);
  });
}

void RawJsonField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  const QString text = current_.is_null() ? QString() : QString::fromStdString(current_.dump());
  if (edit_->text() == text) return;
  const QSignalBlocker block(edit_);
  edit_->setText(text);
}

}  // namespace satlink::gui::form
