// ScenarioForm's widgets, built by walking the JSON Schema: an object is a collapsible group, a
// number or integer a number field, a boolean a checkbox, a string with choices a combo box,
// any other string a line edit; the description is the tooltip, the default the placeholder.
// The parts the schema cannot describe well are built by buildSpecial.
#include <QFormLayout>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <set>

#include "form_section.hpp"
#include "form_special.hpp"
#include "scenario_form.hpp"

namespace satlink::gui {

namespace sim = satlink::simulator;
using form::Json;

namespace {

// Keys the testbed or the mode overwrite in a scenario: an editor for them would change
// nothing. Errors at them still show, in the list at the top.
const std::set<std::string> kHidden = {
    "$schema",
    "satlink_scenario",
    "client_link.seed",  // set per trial
    "server_link.seed",
    "proxy.client.bind",  // the testbed's listener
    "proxy.client.port",
    "proxy.client.keep_alive",  // the mode's
    "proxy.server.keep_alive",
    "proxy.threads",
    "proxy.stats",
};

// Most-used first: the links and the proxy, then the browser and the experiment.
const std::vector<std::pair<std::string, QString>> kSections = {
    {"client_link", QStringLiteral("Client link (browser \u2194 proxy)")},
    {"server_link", QStringLiteral("Server link (proxy \u2194 origin)")},
    {"proxy", QStringLiteral("Proxy")},
    {"client", QStringLiteral("Browser")},
    {"experiment", QStringLiteral("Experiment")},
    {"origin", QStringLiteral("Origin")},
    {"page", QStringLiteral("Page")},
};

QLabel* noteLabel(const QString& text) {
  auto* label = new QLabel(text);
  label->setWordWrap(true);
  label->setForegroundRole(QPalette::PlaceholderText);
  QFont small = label->font();
  small.setPointSizeF(small.pointSizeF() * 0.9);
  label->setFont(small);
  return label;
}

std::string lastKey(const std::string& path) {
  const auto cut = path.find_last_of('.');
  return cut == std::string::npos ? path : path.substr(cut + 1);
}

bool isLink(const std::string& path) {
  return path == "client_link" || path == "server_link";
}

// A resource path the list does not have yet: "/resource-4.jpg".
Json newResource(const Json& items) {
  std::set<std::string> taken;
  for (const Json& r : items)
    if (r.is_object() && r.value("path", Json()).is_string())
      taken.insert(r["path"].get<std::string>());
  std::string path;
  for (std::size_t n = items.size() + 1; path.empty() || taken.count(path); ++n)
    path = "/resource-" + std::to_string(n) + ".jpg";
  return {{"path", path}, {"type", "image/jpeg"}, {"size", 10000}};
}

// A schedule step a second after the last one, at the same delay.
Json newPoint(const Json& points) {
  Json last = points.empty() ? Json::object() : points.back();
  const Json t = last.is_object() ? last.value("t_ms", Json(0)) : Json(0);
  const Json d = last.is_object() ? last.value("delay_ms", Json(0)) : Json(0);
  return {{"t_ms", t.is_number() ? t.get<double>() + (points.empty() ? 0 : 1000) : 0},
          {"delay_ms", d.is_number() ? d : Json(0)}};
}

}  // namespace

form::Field* ScenarioForm::add(form::Field* field, QFormLayout* form, const QString& label,
                               int depth) {
  auto* text = new QLabel(label);
  // One label width per nesting level (less its indent), so the editors of all sections line
  // up in one column instead of each form sizing its own.
  // (A few deep labels are longer and widen their own group a little.)
  const int base =
      text->fontMetrics().horizontalAdvance(QStringLiteral("Connections per host")) + 8;
  text->setMinimumWidth(depth == 0 ? base + 6 : base - 18 * (depth - 1));
  text->setBuddy(field->editor());
  text->setToolTip(field->editor()->toolTip());
  form->addRow(text, field->row());
  fields_[field->path()] = field;
  return field;
}

// A row of its own under a label row: tables and the sweep need the panel's whole width.
form::Field* ScenarioForm::addWide(form::Field* field, QFormLayout* form, const QString& label) {
  if (!label.isEmpty()) {
    auto* text = new QLabel(label);
    text->setToolTip(field->editor()->toolTip());
    form->addRow(text);
  }
  form->addRow(field->row());
  fields_[field->path()] = field;
  return field;
}

void ScenarioForm::build() {
  auto commitFn = [this](const std::string& path, const Json& value) { commit(path, value); };
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  outer->setSpacing(0);

  errors_ = new QLabel(this);
  errors_->setObjectName(QStringLiteral("scenarioForm#errors"));
  errors_->setWordWrap(true);
  errors_->setTextFormat(Qt::PlainText);
  errors_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  errors_->setStyleSheet(
      QStringLiteral("QLabel { color: #b71c1c; background-color: #fdecea; "
                     "border: 1px solid #ef9a9a; padding: 4px; }"));
  errors_->hide();
  outer->addWidget(errors_);

  scroll_ = new QScrollArea(this);
  scroll_->setWidgetResizable(true);
  scroll_->setFrameShape(QFrame::NoFrame);
  scroll_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  content_ = new QWidget;
  content_->setObjectName(QStringLiteral("scenarioForm#content"));
  auto* column = new QVBoxLayout(content_);
  column->setContentsMargins(6, 6, 6, 6);
  column->setSpacing(0);

  const Schema& root = form::scenarioSchema();
  const Schema props = root.value("properties", Schema::object());
  auto* top = new QFormLayout;
  form::makeCompact(top);
  if (props.contains("name"))
    add(new form::TextField("name", form::resolved(props["name"]), commitFn), top,
        QStringLiteral("Name"), 0);
  if (props.contains("description"))
    add(new form::LongTextField("description", form::resolved(props["description"]), commitFn), top,
        QStringLiteral("Question"), 0);
  column->addLayout(top);

  std::vector<std::pair<std::string, QString>> order = kSections;
  for (auto it = props.begin(); it != props.end(); ++it) {
    const bool known =
        std::any_of(order.begin(), order.end(), [&](const auto& s) { return s.first == it.key(); });
    if (!known && form::typeOf(form::resolved(it.value())) == "object")
      order.emplace_back(it.key(), form::labelFor(it.key()));
  }
  for (const auto& [key, title] : order) {
    if (!props.contains(key)) continue;
    const Schema node = form::resolved(props[key]);
    auto* section = new form::FormSection(title, key, 0, content_);
    section->header()->setToolTip(form::descriptionOf(node));
    sections_.push_back(section);
    column->addWidget(section);
    if (key == "proxy")
      section->form()->addRow(noteLabel(QStringLiteral(
          "Keep-alive per side is set by each mode (Experiment \u203a Modes); the listener, "
          "threads and stats by the testbed.")));
    buildObject(node, key, section->form(), 1);
  }
  column->addStretch(1);
  scroll_->setWidget(content_);
  outer->addWidget(scroll_, 1);
  // The content does not scroll sideways, so the form is as narrow as its content allows.
  scroll_->setMinimumWidth(content_->minimumSizeHint().width() +
                           scroll_->verticalScrollBar()->sizeHint().width());

  // The sweep offers every scalar the form edits, the usual ones first.
  if (sweep_) {
    QStringList paths{QStringLiteral("client_link.rtt_ms"), QStringLiteral("server_link.rtt_ms"),
                      QStringLiteral("client.connections_per_host")};
    for (const auto& [path, field] : fields_)
      if (field->isSweepable() && !paths.contains(QString::fromStdString(path)))
        paths << QString::fromStdString(path);
    sweep_->setSuggestions(paths);
  }
}

void ScenarioForm::buildObject(const Schema& node, const std::string& path, QFormLayout* form,
                               int depth) {
  const Schema props = node.value("properties", Schema::object());
  // Scalars first, then the subgroups, each in the schema's order: the short rows stay together.
  for (const bool groups : {false, true}) {
    for (auto it = props.begin(); it != props.end(); ++it) {
      const std::string child = form::joinPath(path, it.key());
      if (kHidden.count(child)) continue;
      const Schema sub = form::resolved(it.value());
      const bool isGroup = form::typeOf(sub) == "object";
      if (isGroup != groups) continue;
      if (buildSpecial(it.key(), sub, child, form, depth)) continue;
      if (!isGroup) {
        buildScalar(it.key(), sub, child, form, depth);
        continue;
      }
      auto* section = new form::FormSection(form::labelFor(it.key(), lastKey(path)), child, depth);
      section->header()->setToolTip(form::descriptionOf(sub));
      sections_.push_back(section);
      form->addRow(section);
      buildObject(sub, child, section->form(), depth + 1);
    }
  }
}

void ScenarioForm::buildScalar(const std::string& key, const Schema& node, const std::string& path,
                               QFormLayout* form, int depth) {
  auto commitFn = [this](const std::string& p, const Json& v) { commit(p, v); };
  const std::string type = form::typeOf(node);
  const QString label = form::labelFor(key, lastKey(path.substr(0, path.find_last_of('.'))));
  if (type == "number" || type == "integer") {
    add(new form::NumberField(path, node, commitFn), form, label, depth);
  } else if (type == "boolean") {
    add(new form::BoolField(path, node, commitFn), form, label, depth);
  } else if (type == "string" && node.contains("enum")) {
    std::vector<std::string> values;
    for (const auto& v : node["enum"]) values.push_back(v.get<std::string>());
    QStringList tips;
    for (const auto& d : node.value("enumDescriptions", Schema::array()))
      tips << QString::fromStdString(d.get<std::string>());
    add(new form::EnumField(path, node, commitFn, values, tips), form, label, depth);
  } else if (type == "string") {
    add(new form::TextField(path, node, commitFn), form, label, depth);
  } else {
    add(new form::RawJsonField(path, node, commitFn), form, label, depth);
  }
}

bool ScenarioForm::buildSpecial(const std::string& key, const Schema& node, const std::string& path,
                                QFormLayout* form, int depth) {
  auto commitFn = [this](const std::string& p, const Json& v) { commit(p, v); };
  const std::string parent = path.substr(0, path.size() - key.size() - (path.size() > key.size()));

  if (key == "preset" && isLink(parent)) {
    // The engine's own preset table, with its one-line descriptions.
    std::vector<std::string> ids;
    QStringList tips;
    for (const sim::LinkPreset& p : sim::link_presets()) {
      ids.emplace_back(p.id);
      tips << QString::fromUtf8(p.description.data(), int(p.description.size()));
    }
    add(new form::EnumField(path, node, commitFn, ids, tips, QStringLiteral("(none)"), true), form,
        QStringLiteral("Preset"), depth);
    return true;
  }
  if (path == "origin.keep_alive") {
    auto* field = new form::OriginKeepAliveField(path, node, commitFn);
    add(field, form, QStringLiteral("Keep-alive"), depth);
    // The object branch's fields, under the combo, editable while the value is an object.
    for (const auto& branch : node.value("oneOf", Schema::array())) {
      if (form::typeOf(branch) != "object") continue;
      auto* box = new QWidget;
      auto* sub = new QFormLayout(box);
      form::makeCompact(sub);
      sub->setContentsMargins(18, 0, 0, 2);
      buildObject(branch, path, sub, depth + 1);
      form->addRow(box);
      field->setObjectFields(box);
    }
    return true;
  }
  if (path == "experiment.modes") {
    addWide(new form::ModesField(path, node, commitFn), form, QStringLiteral("Modes"));
    return true;
  }
  if (path == "experiment.sweep") {
    sweep_ = new form::SweepField(path, node, commitFn);
    addWide(sweep_, form, QStringLiteral("Sweep (at most two axes)"));
    return true;
  }
  if (path == "page.resources") {
    auto* source = new form::PageSourceField("page#source", node, commitFn);
    add(source, form, QStringLiteral("Resources"), depth);
    using Column = form::TableField::Column;
    auto* table = new form::TableField(path, node, commitFn,
                                       {Column{"path", QStringLiteral("Path"), false},
                                        Column{"type", QStringLiteral("Type"), false},
                                        Column{"size", QStringLiteral("Size (bytes)"), true},
                                        Column{"think.ms", QStringLiteral("Think (ms)"), true}},
                                       newResource);
    addWide(table, form, QString());
    // The generate group comes later (groups follow scalars) and is handed over then.
    pageSource_ = source;
    resourcesTable_ = table;
    return true;
  }
  if (path == "page.generate" && pageSource_) {
    auto* section = new form::FormSection(QStringLiteral("Generate"), path, depth);
    section->header()->setToolTip(form::descriptionOf(node));
    sections_.push_back(section);
    form->addRow(section);
    buildObject(node, path, section->form(), depth + 1);
    section->setExpanded(true);
    pageSource_->setTargets(resourcesTable_->row(), section);
    return true;
  }
  if (key == "points" && lastKey(parent) == "schedule") {
    using Column = form::TableField::Column;
    addWide(new form::TableField(path, node, commitFn,
                                 {Column{"t_ms", QStringLiteral("From (ms)"), true},
                                  Column{"delay_ms", QStringLiteral("One-way delay (ms)"), true}},
                                 newPoint),
            form, QStringLiteral("Steps"));
    return true;
  }
  return false;
}

}  // namespace satlink::gui
