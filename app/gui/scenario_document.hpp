// The scenario being edited: its JSON document (the one source of truth that the form, the JSON
// tab and the run all read), the result of loading it (the Scenario, or the loader's errors by
// JSON path), its file and whether it has unsaved changes. Every edit goes through here and is
// re-validated by the engine's loader; the widgets hold no scenario logic.
#pragma once

#include <QObject>
#include <QString>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "satlink/simulator/scenario.hpp"

namespace satlink::gui {

namespace sim = satlink::simulator;

class ScenarioDocument : public QObject {
  Q_OBJECT

 public:
  explicit ScenarioDocument(QObject* parent = nullptr);

  const nlohmann::json& json() const { return json_; }
  // The loaded scenario (valid when errors() is empty) and the loader's errors, all of them.
  const sim::ScenarioResult& loaded() const { return loaded_; }
  const std::vector<sim::ScenarioError>& errors() const { return loaded_.errors; }
  bool isValid() const { return loaded_.ok() && textError_.isEmpty(); }
  // The errors at `path` or below it ("client_link" has "client_link.down.delay_ms"'s).
  std::vector<sim::ScenarioError> errorsAt(const std::string& path) const;

  // The value written in the document at a dotted path ("client_link.down.delay_ms",
  // "page.resources[2].size"); null when absent (the loader's default or the preset applies).
  nlohmann::json value(const std::string& path) const;
  // Writes the value at the path (objects on the way are created); null removes the key, so
  // the default applies again. Returns false with `error` when the path cannot hold a value.
  bool setValue(const std::string& path, const nlohmann::json& value, QString* error = nullptr);
  // Replaces the whole document, as an edit (a paste, an import).
  void setJson(const nlohmann::json& doc);

  // The document as pretty JSON, as the JSON tab shows and a save writes it.
  QString text() const;
  // From the JSON tab: the text replaces the document when it parses; otherwise the document
  // keeps its last good state and textError() says where the text is broken (the Run button
  // stays disabled until it parses again).
  void setText(const QString& text);
  QString textError() const { return textError_; }

  // Files. load/save return false with a message for the user; save is atomic (QSaveFile).
  bool load(const QString& file, QString* error);
  bool save(const QString& file, QString* error);
  QString filePath() const { return filePath_; }
  bool isModified() const { return modified_; }
  // A scenario loaded from a file or a resource keeps its JSON even when the loader rejects it
  // (the user sees the errors and fixes them); load() fails only when the file cannot be read
  // or is not JSON at all.

 signals:
  // After every change of the document (from any source), and after setText with broken text.
  void changed();
  void modifiedChanged(bool modified);
  void filePathChanged(const QString& path);

 private:
  void revalidate();
  void setModified(bool modified);

  nlohmann::json json_;
  sim::ScenarioResult loaded_;
  QString textError_;
  QString filePath_;
  bool modified_ = false;
};

}  // namespace satlink::gui
