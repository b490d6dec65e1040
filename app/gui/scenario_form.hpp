// The scenario as a form: every field of the scenario format, bound to the document by its JSON
// path. The form is built from the JSON Schema (compiled in as a resource), so a field the
// loader and the schema gain appears here without code; a few parts the schema cannot describe
// well get editors of their own (link presets, origin keep-alive, modes, sweep, tables).
//
// The document is the one source of truth: an edit is written with ScenarioDocument::setValue
// (an emptied field removes the key, so the default or preset applies again); every change of
// the document (from the JSON tab, a file opened, this form) refreshes every field without
// writing back. The loader's errors are shown at their fields; those no field shows are listed at
// the top.
#pragma once

#include <QPointer>
#include <QStringList>
#include <QWidget>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

class QFormLayout;
class QLabel;
class QScrollArea;

namespace satlink::gui {

class ScenarioDocument;

namespace form {
class Field;
class FormSection;
class PageSourceField;
class SweepField;
}  // namespace form

class ScenarioForm : public QWidget {
  Q_OBJECT

 public:
  explicit ScenarioForm(ScenarioDocument* document, QWidget* parent = nullptr);
  ~ScenarioForm() override;

  // The editor of a JSON path, named after it: "client_link.down.delay_ms", "page.resources" (a
  // table), "experiment.sweep[0].values". Parts that are no path carry a '#':
  // "experiment.modes#close" (a mode's checkbox), "page#source" (listed or generated resources),
  // "client_link#section" (a section's header). Null when the form has no such editor.
  QWidget* fieldFor(const QString& path) const;
  // What the list at the top shows: errors whose path has no field ("path: reason"), a JSON
  // text that does not parse, an edit the document refused.
  QStringList generalErrors() const { return general_; }

 private:
  using Schema = nlohmann::ordered_json;

  // form_build.cpp: the widgets, walked from the schema.
  void build();
  void buildObject(const Schema& node, const std::string& path, QFormLayout* form, int depth);
  bool buildSpecial(const std::string& key, const Schema& node, const std::string& path,
                    QFormLayout* form, int depth);
  void buildScalar(const std::string& key, const Schema& node, const std::string& path,
                   QFormLayout* form, int depth);
  form::Field* add(form::Field* field, QFormLayout* form, const QString& label, int depth);
  form::Field* addWide(form::Field* field, QFormLayout* form, const QString& label);

  // scenario_form.cpp
  void refresh();
  void showErrors();
  void updateSections();
  void commit(const std::string& path, const nlohmann::json& value);
  form::Field* owner(const std::string& errorPath) const;

  QPointer<ScenarioDocument> document_;
  QLabel* errors_ = nullptr;
  QScrollArea* scroll_ = nullptr;
  QWidget* content_ = nullptr;
  std::map<std::string, form::Field*> fields_;
  std::vector<form::FormSection*> sections_;
  std::map<form::FormSection*, bool> hadValues_;
  form::SweepField* sweep_ = nullptr;
  form::PageSourceField* pageSource_ = nullptr;
  form::Field* resourcesTable_ = nullptr;
  nlohmann::json effective_;
  QStringList general_;
  QString refused_;  // the last edit the document refused, until the next change
  bool refreshing_ = false;
  bool closing_ = false;
};

}  // namespace satlink::gui
