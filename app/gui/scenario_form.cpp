#include "scenario_form.hpp"

#include <QLabel>
#include <QScrollArea>
#include <cmath>

#include "form_fields.hpp"
#include "form_section.hpp"
#include "scenario_document.hpp"

namespace satlink::gui {

namespace sim = satlink::simulator;
using form::Json;

namespace {

// "25 Mbit/s", "768 kbit/s", "∞" (0 = unlimited).
QString rateText(double bps) {
  if (bps <= 0) return QStringLiteral("\u221e");
  const char* units[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s"};
  int u = 0;
  while (bps >= 1000 && u < 3) {
    bps /= 1000;
    ++u;
  }
  return QString::number(bps, 'g', 3) + QLatin1Char(' ') + QLatin1String(units[u]);
}

// What a link does, in one line for its section's header: RTT, rates, loss.
QString linkSummary(const sim::LinkConfig& c) {
  QString s = QStringLiteral("RTT %1 ms").arg(QString::number(c.rtt_ms(), 'g', 6));
  if (c.down.rate_bps > 0 || c.up.rate_bps > 0)
    s += QStringLiteral(" \u00b7 \u2193%1 \u2191%2")
             .arg(rateText(c.down.rate_bps), rateText(c.up.rate_bps));
  if (c.down.loss.rate > 0 || c.up.loss.rate > 0)
    s += QStringLiteral(" \u00b7 loss %1 %")
             .arg(QString::number(std::max(c.down.loss.rate, c.up.loss.rate) * 100, 'g', 3));
  return s;
}

bool holdsValues(const Json& v) {
  return !v.is_null() && !((v.is_object() || v.is_array()) && v.empty());
}

}  // namespace

ScenarioForm::ScenarioForm(ScenarioDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
  build();
  connect(document, &ScenarioDocument::changed, this, [this] {
    refused_.clear();
    refresh();
  });
  refresh();
}

ScenarioForm::~ScenarioForm() {
  // The fields die with their widgets; deleting them while the form is whole keeps a last
  // editingFinished (focus leaving a dying line edit) from reaching a half-destroyed form.
  closing_ = true;
  delete scroll_;
  fields_.clear();
}

QWidget* ScenarioForm::fieldFor(const QString& path) const {
  return content_ ? content_->findChild<QWidget*>(path) : nullptr;
}

void ScenarioForm::commit(const std::string& path, const Json& value) {
  if (refreshing_ || closing_ || !document_) return;
  QString error;
  if (!document_->setValue(path, value, &error)) {
    refused_ = error;
    showErrors();
  }
}

void ScenarioForm::refresh() {
  if (!document_ || closing_) return;
  refreshing_ = true;
  effective_ = form::effectiveScenario(document_->loaded().scenario);
  const form::Snapshot snapshot{document_, &effective_};
  for (const auto& [path, field] : fields_) field->refresh(snapshot);
  showErrors();
  updateSections();
  refreshing_ = false;
}

form::Field* ScenarioForm::owner(const std::string& errorPath) const {
  // The field of the longest path that is the error's or above it.
  std::string p = errorPath;
  while (!p.empty()) {
    if (auto it = fields_.find(p); it != fields_.end()) return it->second;
    const auto cut = p.find_last_of(".[");
    if (cut == std::string::npos) break;
    p.resize(cut);
  }
  return nullptr;
}

void ScenarioForm::showErrors() {
  std::map<form::Field*, std::vector<form::Error>> byField;
  general_.clear();
  for (const form::Error& e : document_->errors()) {
    if (form::Field* f = owner(e.path))
      byField[f].push_back(e);
    else
      general_ << QString::fromStdString((e.path.empty() ? "(root)" : e.path) + ": " + e.reason);
  }
  for (const auto& [path, field] : fields_) field->showErrors(byField[field]);
  if (!document_->textError().isEmpty())
    general_.prepend(QStringLiteral("The JSON text does not parse (the form shows the last valid "
                                    "document): ") +
                     document_->textError());
  if (!refused_.isEmpty()) general_.prepend(QStringLiteral("Not written: ") + refused_);
  errors_->setText(general_.join(QLatin1Char('\n')));
  errors_->setVisible(!general_.isEmpty());
}

void ScenarioForm::updateSections() {
  for (form::FormSection* section : sections_) {
    const bool values = holdsValues(document_->value(section->path()));
    const bool errors = !document_->errorsAt(section->path()).empty();
    section->setState(values && section->depth() > 0, errors);
    // Open what needs reading: errors, and values that just appeared (a file opened, the JSON
    // tab); never close what the user opened.
    bool& had = hadValues_[section];
    if (errors || (values && !had)) section->setExpanded(true);
    had = values;
  }
  const auto& s = document_->loaded().scenario;
  for (form::FormSection* section : sections_) {
    if (section->path() == "client_link") section->setSummary(linkSummary(s.client_link.config));
    if (section->path() == "server_link") section->setSummary(linkSummary(s.server_link.config));
  }
}

}  // namespace satlink::gui
