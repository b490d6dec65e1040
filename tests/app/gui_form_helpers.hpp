// Helpers shared by the scenario form's tests (gui_form_test.cpp, gui_form_edit_test.cpp):
// finding an editor by JSON path, typing as a user does, and comparing what the editors show
// with the document. Header-only so the one test executable needs no helper library.
#pragma once

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QTableWidget>
#include <QtTest>

#include "scenario_document.hpp"
#include "scenario_form.hpp"

namespace form_test {

using nlohmann::json;
using satlink::gui::ScenarioDocument;
using satlink::gui::ScenarioForm;

inline QString scenarioFile(const QString& name) {
  return QStringLiteral(SATLINK_SCENARIOS_DIR) + QLatin1Char('/') + name;
}

// The editor of a path, of the expected kind; a missing one ends the run with its name (the
// tests would only crash on it).
template <class W>
W* editor(const ScenarioForm& form, const char* path) {
  W* w = qobject_cast<W*>(form.fieldFor(QString::fromLatin1(path)));
  if (!w) qFatal("no %s editor for %s", W::staticMetaObject.className(), path);
  return w;
}

// Types into a line edit as a user does and presses Enter (editingFinished).
inline void type(QLineEdit* edit, const QString& text) {
  edit->selectAll();
  QTest::keyClick(edit, Qt::Key_Backspace);
  QTest::keyClicks(edit, text);
  QTest::keyClick(edit, Qt::Key_Return);
}

// What one editor shows against the document's value; empty when they agree.
inline QString disagreement(QWidget* w, const json& v) {
  const QString name = w->objectName();
  auto num = [](const QString& t) { return t.toDouble(); };
  if (auto* e = qobject_cast<QLineEdit*>(w)) {
    if (v.is_null())
      return e->text().isEmpty() ? QString() : name + " shows " + e->text() + ", absent";
    if (v.is_number() && num(e->text()) == v.get<double>()) return {};
    if (v.is_string() && e->text() == QString::fromStdString(v.get<std::string>())) return {};
    return name + " shows " + e->text() + ", document " + QString::fromStdString(v.dump());
  }
  if (auto* c = qobject_cast<QComboBox*>(w)) {
    const QString data = c->currentData().toString();
    if (v.is_null() ? data.isEmpty()
                    : (data == QString::fromStdString(v.dump()) ||
                       (v.is_object() && data == QLatin1String("custom"))))
      return {};
    return name + " shows " + c->currentText() + ", document " + QString::fromStdString(v.dump());
  }
  if (auto* b = qobject_cast<QCheckBox*>(w)) {
    if (!v.is_boolean() || b->isChecked() == v.get<bool>()) return {};
    return name + " checked " + QString::number(b->isChecked()) + ", document " +
           QString::fromStdString(v.dump());
  }
  if (auto* t = qobject_cast<QPlainTextEdit*>(w)) {
    if (t->toPlainText() == QString::fromStdString(v.is_string() ? v.get<std::string>() : ""))
      return {};
    return name + " differs";
  }
  if (auto* t = qobject_cast<QTableWidget*>(w)) {
    const int rows = v.is_array() ? int(v.size()) : 0;
    if (t->rowCount() != rows) return name + " has " + QString::number(t->rowCount()) + " rows";
    for (int r = 0; r < rows; ++r)
      if (t->item(r, 0)->text() != QString::fromStdString(v[std::size_t(r)].value("path", "")))
        return name + " row " + QString::number(r) + " differs";
  }
  return {};
}

// Every editor named after a JSON path against the document; returns the mismatches, and how
// many editors were compared in `compared`.
inline QStringList formAgainstDocument(const ScenarioForm& form, const ScenarioDocument& doc,
                                       int* compared) {
  QStringList out;
  *compared = 0;
  for (QWidget* w : form.findChildren<QWidget*>()) {
    const QString name = w->objectName();
    if (name.isEmpty() || name.contains('#') || name.startsWith(QLatin1String("qt_")) ||
        name.contains(QLatin1String("sweep")) || !name.at(0).isLower())
      continue;
    const QString diff = disagreement(w, doc.value(name.toStdString()));
    ++*compared;
    if (!diff.isEmpty()) out << diff;
  }
  return out;
}

}  // namespace form_test
