// The sweep editor (SweepField, declared in form_special.hpp).
#include <QComboBox>
#include <QCompleter>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>
#include <QToolButton>
#include <QVBoxLayout>

#include "form_special.hpp"
#include "scenario_document.hpp"

namespace satlink::gui::form {

namespace {

QString valuesText(const Json& values) {
  if (!values.is_array())
    return values.is_null() ? QString() : QString::fromStdString(values.dump());
  QStringList parts;
  for (const Json& v : values)
    parts << (v.is_number() ? displayText(v) : QString::fromStdString(v.dump()));
  return parts.join(QStringLiteral(", "));
}

// "50, 300, 600" or "\"1.2\", \"1.3\"" as JSON; failing that, each comma-separated item is
// JSON or else a string (as --set reads a value). `asStrings`: the swept field holds a string,
// so a bare 1.2 means "1.2".
Json parseValues(const QString& text, bool asStrings) {
  Json out = Json::parse("[" + text.toStdString() + "]", nullptr, false);
  if (out.is_discarded()) {
    out = Json::array();
    for (const QString& item : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
      out.push_back(satlink::simulator::parse_override_value(item.trimmed().toStdString()));
  }
  if (asStrings)
    for (Json& v : out)
      if (v.is_number()) v = displayText(v).toStdString();
  return out;
}

QLineEdit* numberEdit(QWidget* parent) {
  auto* edit = new QLineEdit(parent);
  edit->setValidator(new QRegularExpressionValidator(
      QRegularExpression(QStringLiteral("-?[0-9]*\\.?[0-9]*([eE][-+]?[0-9]*)?")), edit));
  return edit;
}

}  // namespace

SweepField::SweepField(std::string path, Schema schema, CommitFn onCommit)
    : Field(std::move(path), std::move(schema), std::move(onCommit)) {
  auto* box = new QWidget;
  box->setAttribute(Qt::WA_StyledBackground);  // so the invalid frame shows on the container
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(3);
  for (int i = 0; i < 2; ++i) layout->addWidget(buildAxis(i));
  add_ = new QPushButton(QStringLiteral("Add sweep axis"), box);
  add_->setObjectName(QString::fromStdString(path_) + QStringLiteral("#add"));
  auto* addRow = new QHBoxLayout;
  addRow->addWidget(add_);
  addRow->addStretch(1);
  layout->addLayout(addRow);
  QObject::connect(add_, &QPushButton::clicked, this, [this] { addAxis(); });
  setUp(box);
}

QWidget* SweepField::buildAxis(int index) {
  Axis& a = axes_[std::size_t(index)];
  const QString base = QString::fromStdString(indexPath(path_, std::size_t(index)));
  auto* frame = new QFrame;
  frame->setFrameShape(QFrame::StyledPanel);
  a.box = frame;
  auto* grid = new QGridLayout(frame);
  grid->setContentsMargins(4, 3, 4, 3);
  grid->setHorizontalSpacing(4);
  grid->setVerticalSpacing(2);

  grid->addWidget(new QLabel(QStringLiteral("Axis %1").arg(index + 1), frame), 0, 0);
  a.path = new QComboBox(frame);
  a.path->setEditable(true);
  a.path->setInsertPolicy(QComboBox::NoInsert);
  a.path->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  a.path->setMinimumContentsLength(10);
  a.path->setObjectName(base + QStringLiteral(".path"));
  a.path->setToolTip(descriptionOf(resolved(Schema{{"$ref", "#/definitions/sweep_path"}})));
  grid->addWidget(a.path, 0, 1);
  auto* remove = new QToolButton(frame);
  remove->setText(QStringLiteral("\u2715"));
  remove->setToolTip(QStringLiteral("Remove this axis"));
  remove->setAutoRaise(true);
  remove->setObjectName(base + QStringLiteral("#remove"));
  grid->addWidget(remove, 0, 2);

  a.kind = new QComboBox(frame);
  a.kind->addItems({QStringLiteral("values"), QStringLiteral("range")});
  a.kind->setObjectName(base + QStringLiteral("#kind"));
  a.kind->setToolTip(QStringLiteral("A list of values, or from, to and step"));
  grid->addWidget(a.kind, 1, 0);
  a.values = new QLineEdit(frame);
  a.values->setObjectName(base + QStringLiteral(".values"));
  a.values->setPlaceholderText(QStringLiteral("50, 300, 600"));
  a.values->setToolTip(
      QStringLiteral("Comma-separated JSON values (text that is not JSON is a "
                     "string); each must give a valid scenario."));
  a.range = new QWidget(frame);
  auto* range = new QHBoxLayout(a.range);
  range->setContentsMargins(0, 0, 0, 0);
  range->setSpacing(3);
  const std::array<std::pair<const char*, QLineEdit**>, 3> parts{
      {{"from", &a.from}, {"to", &a.to}, {"step", &a.step}}};
  for (const auto& [key, edit] : parts) {
    range->addWidget(new QLabel(QString::fromLatin1(key), a.range));
    *edit = numberEdit(a.range);
    (*edit)->setObjectName(base + QLatin1Char('.') + QLatin1String(key));
    range->addWidget(*edit, 1);
    QObject::connect(*edit, &QLineEdit::editingFinished, this,
                     [this, index, key = key, e = *edit] { commitRange(index, key, e); });
  }
  auto* valueBox = new QWidget(frame);
  auto* valueLayout = new QHBoxLayout(valueBox);
  valueLayout->setContentsMargins(0, 0, 0, 0);
  valueLayout->addWidget(a.values);
  valueLayout->addWidget(a.range);
  grid->addWidget(valueBox, 1, 1, 1, 2);
  // Tooltips to return to once an error is fixed.
  const Schema branches =
      resolved(Schema{{"$ref", "#/definitions/sweep_axis"}}).value("oneOf", Schema::array());
  const Schema rangeProps =
      branches.size() > 1 ? branches[1].value("properties", Schema::object()) : Schema::object();
  for (const auto& [key, edit] : parts)
    (*edit)->setToolTip(descriptionOf(rangeProps.value(key, Schema::object())));
  for (QWidget* w : std::initializer_list<QWidget*>{a.path, a.values, a.from, a.to, a.step})
    w->setProperty("baseTip", w->toolTip());
  grid->setColumnStretch(1, 1);

  QObject::connect(a.path->lineEdit(), &QLineEdit::editingFinished, this,
                   [this, index] { commitPath(index); });
  QObject::connect(a.path, &QComboBox::activated, this, [this, index] { commitPath(index); });
  QObject::connect(a.values, &QLineEdit::editingFinished, this,
                   [this, index] { commitValues(index); });
  QObject::connect(a.kind, &QComboBox::currentIndexChanged, this,
                   [this, index](int k) { switchKind(index, k == 1); });
  QObject::connect(remove, &QToolButton::clicked, this, [this, index] { removeAxis(index); });
  return frame;
}

void SweepField::setSuggestions(const QStringList& paths) {
  for (Axis& a : axes_) {
    const QSignalBlocker block(a.path);
    const QString text = a.path->currentText();
    a.path->clear();
    a.path->addItems(paths);
    a.path->setEditText(text);
    a.path->completer()->setCaseSensitivity(Qt::CaseInsensitive);
    a.path->completer()->setFilterMode(Qt::MatchContains);
  }
}

Json SweepField::axes() const {
  return current_.is_array() ? current_ : Json::array();
}

void SweepField::editAxis(int index, const std::function<void(Json& axis)>& change) {
  Json list = axes();
  if (std::size_t(index) >= list.size()) return;
  Json& axis = list[std::size_t(index)];
  if (!axis.is_object()) axis = Json::object();
  change(axis);
  if (list != current_) commit(list);
}

void SweepField::commitPath(int index) {
  const std::string text = axes_[std::size_t(index)].path->currentText().trimmed().toStdString();
  editAxis(index, [&](Json& axis) { axis["path"] = text; });
}

void SweepField::commitValues(int index) {
  editAxis(index, [&](Json& axis) {
    const std::string path =
        axis.value("path", Json()).is_string() ? axis["path"].get<std::string>() : "";
    const bool asStrings = valueAt(effective_, path).is_string();
    axis["values"] = parseValues(axes_[std::size_t(index)].values->text(), asStrings);
  });
}

void SweepField::commitRange(int index, const char* key, QLineEdit* edit) {
  editAxis(index, [&](Json& axis) {
    const Json v = parseNumber(edit->text());
    if (v.is_null())
      axis.erase(key);
    else
      axis[key] = v;
  });
}

void SweepField::switchKind(int index, bool range) {
  editAxis(index, [&](Json& axis) {
    if (range == axis.contains("from")) return;
    if (range) {
      // A list of numbers becomes its first, last and even step; anything else a small range.
      const Json values = axis.value("values", Json::array());
      double from = 1, to = 2, step = 1;
      const bool numeric =
          values.is_array() && !values.empty() &&
          std::all_of(values.begin(), values.end(), [](const Json& v) { return v.is_number(); });
      if (numeric) {
        from = values.front().get<double>();
        to = values.back().get<double>();
        if (values.size() > 1 && to > from) step = (to - from) / double(values.size() - 1);
        if (to < from) to = from;
      }
      axis.erase("values");
      axis["from"] = parseNumber(displayText(from));
      axis["to"] = parseNumber(displayText(to));
      axis["step"] = parseNumber(displayText(step));
    } else {
      const Json loaded = expanded_[std::size_t(index)];
      Json values = loaded.is_array() && !loaded.empty() ? loaded : Json::array();
      if (values.empty())
        for (const char* key : {"from", "to"})
          if (axis.contains(key)) values.push_back(axis[key]);
      for (const char* key : {"from", "to", "step"}) axis.erase(key);
      axis["values"] = values;
    }
  });
}

void SweepField::addAxis() {
  Json list = axes();
  if (list.size() >= 2) return;
  std::string path = "client_link.rtt_ms";
  for (const Json& axis : list)
    if (axis.is_object() && axis.value("path", Json()) == Json(path))
      path = "client.connections_per_host";
  Json value = valueAt(effective_, path);
  list.push_back({{"path", path}, {"values", Json::array({value.is_null() ? Json(0) : value})}});
  commit(list);
}

void SweepField::removeAxis(int index) {
  Json list = axes();
  if (std::size_t(index) >= list.size()) return;
  list.erase(std::size_t(index));
  // No axis left: remove the key, as a file without a sweep has none.
  commit(list.empty() ? Json() : list);
}

void SweepField::refresh(const Snapshot& s) {
  current_ = s.value(path_);
  effective_ = s.effective ? *s.effective : Json();
  const auto& loaded = s.document->loaded().scenario.experiment.sweep;
  const Json list = axes();
  for (std::size_t i = 0; i < axes_.size(); ++i) {
    Axis& a = axes_[i];
    expanded_[i] = i < loaded.size() ? Json(loaded[i].values) : Json();
    a.box->setVisible(i < list.size());
    const Json axis = i < list.size() && list[i].is_object() ? list[i] : Json::object();
    const bool isRange = axis.contains("from") || axis.contains("to") || axis.contains("step");
    const QSignalBlocker b1(a.path), b2(a.kind), b3(a.values);
    const QString path = displayText(axis.value("path", Json()));
    if (a.path->currentText() != path) a.path->setEditText(path);
    a.kind->setCurrentIndex(isRange ? 1 : 0);
    a.values->setVisible(!isRange);
    a.range->setVisible(isRange);
    const QString values = valuesText(axis.value("values", Json()));
    if (a.values->text() != values) a.values->setText(values);
    for (auto [key, edit] : {std::pair{"from", a.from}, {"to", a.to}, {"step", a.step}}) {
      const QSignalBlocker b(edit);
      const Json v = axis.value(key, Json());
      if (parseNumber(edit->text()) != v) edit->setText(displayText(v));
    }
  }
  add_->setVisible(list.size() < 2);
}

void SweepField::showErrors(const std::vector<Error>& errors) {
  Field::showErrors(errors);
  // The container's frame says "something here"; the part at fault is marked too.
  for (std::size_t i = 0; i < axes_.size(); ++i) {
    const Axis& a = axes_[i];
    const std::string base = indexPath(path_, i);
    const std::vector<std::pair<QWidget*, std::string>> parts{{a.path, ".path"},
                                                              {a.values, ".values"},
                                                              {a.from, ".from"},
                                                              {a.to, ".to"},
                                                              {a.step, ".step"}};
    for (const auto& [widget, key] : parts) {
      QStringList reasons;
      for (const Error& e : errors)
        if (isAtOrBelow(e.path, base + key))
          reasons << QString::fromStdString(e.path.substr(base.size() + 1) + ": " + e.reason);
      markInvalid(widget, !reasons.isEmpty(),
                  reasons.isEmpty() ? widget->property("baseTip").toString() : reasons.join('\n'));
    }
  }
}

}  // namespace satlink::gui::form
