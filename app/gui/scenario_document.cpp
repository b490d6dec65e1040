#include "scenario_document.hpp"

#include <QFile>
#include <QSaveFile>

#include "satlink/proxycore/json_reader.hpp"

namespace satlink::gui {

namespace {

// The loader's path syntax: keys joined by '.', array elements as [i].
std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : path) {
    if (c == '.' || c == '[' || c == ']') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  return parts;
}

bool isIndex(const std::string& s) {
  return !s.empty() && s.size() < 9 && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

ScenarioDocument::ScenarioDocument(QObject* parent) : QObject(parent) {
  json_ = {{"satlink_scenario", 1}};
  revalidate();
}

std::vector<sim::ScenarioError> ScenarioDocument::errorsAt(const std::string& path) const {
  std::vector<sim::ScenarioError> out;
  for (const auto& e : loaded_.errors) {
    const bool below = e.path.size() > path.size() && e.path.compare(0, path.size(), path) == 0 &&
                       (e.path[path.size()] == '.' || e.path[path.size()] == '[');
    if (e.path == path || below || path.empty()) out.push_back(e);
  }
  return out;
}

nlohmann::json ScenarioDocument::value(const std::string& path) const {
  const nlohmann::json* at = &json_;
  for (const std::string& part : splitPath(path)) {
    if (at->is_object() && at->contains(part)) {
      at = &(*at)[part];
    } else if (at->is_array() && isIndex(part) && std::stoul(part) < at->size()) {
      at = &(*at)[std::stoul(part)];
    } else {
      return nullptr;
    }
  }
  return *at;
}

bool ScenarioDocument::setValue(const std::string& path, const nlohmann::json& value,
                                QString* error) {
  nlohmann::json doc = json_;
  if (value.is_null()) {
    // Remove the key; objects left empty on the way stay (harmless: the loader accepts {}).
    const auto parts = splitPath(path);
    if (parts.empty()) return false;
    nlohmann::json* at = &doc;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (at->is_object() && at->contains(parts[i])) at = &(*at)[parts[i]];
      else if (at->is_array() && isIndex(parts[i]) && std::stoul(parts[i]) < at->size())
        at = &(*at)[std::stoul(parts[i])];
      else return true;  // already absent
    }
    if (at->is_object()) at->erase(parts.back());
    else if (at->is_array() && isIndex(parts.back()) && std::stoul(parts.back()) < at->size())
      at->erase(std::stoul(parts.back()));
  } else if (auto e = sim::apply_override(doc, path, value)) {
    if (error) *error = QString::fromStdString(e->path + ": " + e->reason);
    return false;
  }
  if (doc == json_) return true;
  json_ = std::move(doc);
  textError_.clear();
  revalidate();
  setModified(true);
  emit changed();
  return true;
}

void ScenarioDocument::setJson(const nlohmann::json& doc) {
  json_ = doc;
  textError_.clear();
  revalidate();
  setModified(true);
  emit changed();
}

QString ScenarioDocument::text() const { return QString::fromStdString(json_.dump(2)) + "\n"; }

void ScenarioDocument::setText(const QString& text) {
  const std::string bytes = text.toStdString();
  nlohmann::json doc = nlohmann::json::parse(bytes, nullptr, false);
  if (doc.is_discarded()) {
    try {
      const auto reparsed = nlohmann::json::parse(bytes);
      (void)reparsed;
    } catch (const nlohmann::json::parse_error& e) {
      textError_ = QString::fromStdString(proxycore::json_reader::parse_error_reason(e));
    }
    emit changed();
    return;
  }
  textError_.clear();
  if (doc == json_) {
    emit changed();
    return;
  }
  json_ = std::move(doc);
  revalidate();
  setModified(true);
  emit changed();
}

bool ScenarioDocument::load(const QString& file, QString* error) {
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly)) {
    if (error) *error = QStringLiteral("%1: %2").arg(file, f.errorString());
    return false;
  }
  const QByteArray bytes = f.read(16 * 1024 * 1024 + 1);
  if (bytes.size() > 16 * 1024 * 1024) {
    if (error) *error = QStringLiteral("%1: larger than 16 MiB, not a scenario").arg(file);
    return false;
  }
  const std::string text = bytes.toStdString();
  try {
    json_ = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    if (error)
      *error = QStringLiteral("%1: %2").arg(file, QString::fromStdString(proxycore::json_reader::parse_error_reason(e)));
    return false;
  }
  textError_.clear();
  revalidate();
  filePath_ = file.startsWith(QLatin1String(":/")) ? QString() : file;
  emit filePathChanged(filePath_);
  setModified(false);
  emit changed();
  return true;
}

bool ScenarioDocument::save(const QString& file, QString* error) {
  QSaveFile f(file);
  const QByteArray bytes = text().toUtf8();
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
    if (error) *error = QStringLiteral("%1: %2").arg(file, f.errorString());
    return false;
  }
  filePath_ = file;
  emit filePathChanged(filePath_);
  setModified(false);
  return true;
}

void ScenarioDocument::revalidate() { loaded_ = sim::load_scenario(json_); }

void ScenarioDocument::setModified(bool modified) {
  if (modified_ == modified) return;
  modified_ = modified;
  emit modifiedChanged(modified);
}

}  // namespace satlink::gui
