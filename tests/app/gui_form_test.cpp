// The scenario form (ScenarioForm) bound to a ScenarioDocument, offscreen: it shows what the
// document holds, writes what the user edits, marks the loader's errors at their fields, and
// never writes back when the document changes under it.
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QTableWidget>
#include <QToolButton>
#include <QtTest>
#include <fstream>

#include "scenario_document.hpp"
#include "scenario_form.hpp"

using nlohmann::json;
using satlink::gui::ScenarioDocument;
using satlink::gui::ScenarioForm;

namespace {

QString scenarioFile(const QString& name) {
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
void type(QLineEdit* edit, const QString& text) {
  edit->selectAll();
  QTest::keyClick(edit, Qt::Key_Backspace);
  QTest::keyClicks(edit, text);
  QTest::keyClick(edit, Qt::Key_Return);
}

// What one editor shows against the document's value; empty when they agree.
QString disagreement(QWidget* w, const json& v) {
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
QStringList formAgainstDocument(const ScenarioForm& form, const ScenarioDocument& doc,
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

}  // namespace

class FormTest : public QObject {
  Q_OBJECT

 private slots:
  void shippedScenariosShowTheDocument_data();
  void shippedScenariosShowTheDocument();
  void geoScenarioShowsPresetsAndValuesInEffect();
  void sweepAxesShowTheFile();
  void editsWriteTheDocument();
  void documentEditsUpdateTheForm();
  void invalidValuesAreMarkedAtTheField();
  void clearingAFieldRemovesTheKey();
  void resourcesTableAddsEditsAndRemoves();
  void pageSourceSwitchConverts();
  void sweepEditsWriteTheAxes();
  void errorsWithoutAFieldAreListedAtTheTop();
  void refreshNeverWritesBack();
  void ownEditKeepsTheCursor();
  void fitsThePanel();
};

void FormTest::shippedScenariosShowTheDocument_data() {
  QTest::addColumn<QString>("file");
  const QDir dir(QStringLiteral(SATLINK_SCENARIOS_DIR));
  const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files);
  QVERIFY(files.size() >= 8);
  for (const QString& f : files) QTest::newRow(f.toUtf8().constData()) << dir.filePath(f);
}

void FormTest::shippedScenariosShowTheDocument() {
  QFETCH(QString, file);
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QSignalSpy changed(&doc, &ScenarioDocument::changed);
  QString error;
  QVERIFY2(doc.load(file, &error), qPrintable(error));
  QCOMPARE(changed.count(), 1);  // the load's own; the form wrote nothing back
  QVERIFY(!doc.isModified());
  std::ifstream in(file.toStdString());
  QVERIFY(doc.json() == json::parse(in));
  QVERIFY(doc.isValid());
  QVERIFY2(form.generalErrors().isEmpty(), qPrintable(form.generalErrors().join('\n')));

  int compared = 0;
  const QStringList diffs = formAgainstDocument(form, doc, &compared);
  QVERIFY2(diffs.isEmpty(), qPrintable(diffs.join('\n')));
  QVERIFY2(compared > 80, qPrintable(QString::number(compared)));  // the schema walk built them
  QCOMPARE(editor<QLineEdit>(form, "name")->text(), QString::fromStdString(doc.json()["name"]));
  for (QWidget* w : form.findChildren<QWidget*>())
    QVERIFY2(!w->property("invalid").toBool(), qPrintable(w->objectName()));
}

void FormTest::geoScenarioShowsPresetsAndValuesInEffect() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  QCOMPARE(editor<QComboBox>(form, "client_link.preset")->currentText(), QStringLiteral("geo"));
  QCOMPARE(editor<QComboBox>(form, "server_link.preset")->currentText(), QStringLiteral("lan"));
  QCOMPARE(editor<QLineEdit>(form, "client.connections_per_host")->text(), QStringLiteral("6"));
  QCOMPARE(editor<QComboBox>(form, "origin.keep_alive")->currentText(), QStringLiteral("nginx"));
  QCOMPARE(editor<QComboBox>(form, "page#source")->currentIndex(), 1);  // generated
  QCOMPARE(editor<QLineEdit>(form, "page.generate.count")->text(), QStringLiteral("30"));
  QCOMPARE(editor<QLineEdit>(form, "experiment.repetitions")->text(), QStringLiteral("3"));
  for (const char* mode : {"no-proxy", "keep-alive", "server-close", "close", "client-close"})
    QVERIFY(form.findChild<QCheckBox*>(QStringLiteral("experiment.modes#") + mode)->isChecked());
  // Absent keys show what the preset puts in effect: GEO is 300 ms each way, 25 Mbit/s down.
  QVERIFY(editor<QLineEdit>(form, "client_link.down.delay_ms")->text().isEmpty());
  const std::pair<const char*, const char*> inEffect[] = {
      {"client_link.down.delay_ms", "300"},
      {"client_link.down.rate_bps", "25000000"},
      {"client_link.rtt_ms", "600"},
      {"origin.keep_alive.timeout_ms", "75000"}};
  for (const auto& [path, value] : inEffect) {
    const QString hint = editor<QLineEdit>(form, path)->placeholderText();
    QVERIFY2(hint.startsWith(QLatin1String(value)), qPrintable(hint));
  }
  // Every parameter the issue names has an editor.
  const QString named = QStringLiteral(
      "client_link.up.delay_ms client_link.down.jitter.ms client_link.down.jitter.distribution "
      "client_link.up.rate_bps client_link.down.queue_bytes client_link.down.loss.rate "
      "client_link.setup client_link.slow_start.enabled client_link.schedule.points "
      "client_link.schedule.repeat_ms server_link.preset proxy.timeouts.http_keep_alive_ms "
      "proxy.timeouts.pool_idle_ms proxy.server.reuse proxy.server.max_idle_per_server "
      "proxy.client.tls.enabled origin.think.ms origin.memory_model origin.tls "
      "origin.tls_version page.resources page.generate.min_bytes client.keep_alive "
      "client.http_version client.pipelining client.users experiment.seed "
      "experiment.parallelism experiment.hold_ms experiment.sweep description");
  for (const QString& path : named.split(QLatin1Char(' ')))
    QVERIFY2(form.fieldFor(path), qPrintable(path));
  QVERIFY(!form.fieldFor(QStringLiteral("no.such.path")));
}

void FormTest::sweepAxesShowTheFile() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("parallel-connections.json")), nullptr));
  QCOMPARE(editor<QComboBox>(form, "experiment.sweep[0].path")->currentText(),
           QStringLiteral("client.connections_per_host"));
  QCOMPARE(editor<QLineEdit>(form, "experiment.sweep[0].values")->text(),
           QStringLiteral("1, 2, 3, 4, 5, 6, 7, 8"));
  QVERIFY(!form.findChild<QCheckBox*>(QStringLiteral("experiment.modes#no-proxy"))->isChecked());
  QVERIFY(form.findChild<QCheckBox*>(QStringLiteral("experiment.modes#close"))->isChecked());
  QVERIFY(doc.load(scenarioFile(QStringLiteral("server-keepalive-https.json")), nullptr));
  QCOMPARE(editor<QLineEdit>(form, "experiment.sweep[0].values")->text(),
           QStringLiteral("\"1.2\", \"1.3\""));
  QVERIFY(editor<QCheckBox>(form, "origin.tls")->isChecked());
}

void FormTest::editsWriteTheDocument() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));

  type(editor<QLineEdit>(form, "client_link.down.delay_ms"), QStringLiteral("250"));
  QCOMPARE(doc.value("client_link.down.delay_ms"), json(250));
  QVERIFY(doc.value("client_link.down.delay_ms").is_number_integer());  // not 250.0
  type(editor<QLineEdit>(form, "client_link.down.loss.rate"), QStringLiteral("0.02"));
  QCOMPARE(doc.value("client_link.down.loss.rate"), json(0.02));
  type(editor<QLineEdit>(form, "name"), QStringLiteral("Edited"));
  QCOMPARE(doc.value("name"), json("Edited"));
  QVERIFY(doc.isModified());

  auto* preset = editor<QComboBox>(form, "client_link.preset");
  preset->setCurrentIndex(preset->findText(QStringLiteral("leo")));
  QCOMPARE(doc.value("client_link.preset"), json("leo"));
  auto* setup = editor<QComboBox>(form, "client_link.setup");
  setup->setCurrentIndex(setup->findText(QStringLiteral("seed")));
  QCOMPARE(doc.value("client_link.setup"), json("seed"));
  editor<QCheckBox>(form, "client.keep_alive")->setChecked(false);
  QCOMPARE(doc.value("client.keep_alive"), json(false));
  editor<QCheckBox>(form, "client_link.slow_start.enabled")->setChecked(true);
  QCOMPARE(doc.value("client_link.slow_start.enabled"), json(true));
  form.findChild<QCheckBox*>(QStringLiteral("experiment.modes#close"))->setChecked(false);
  QCOMPARE(doc.value("experiment.modes"),
           json({"no-proxy", "keep-alive", "server-close", "client-close"}));

  // "custom" keep-alive starts from the preset's figures (nginx: 75 s, 1000 requests).
  auto* keepAlive = editor<QComboBox>(form, "origin.keep_alive");
  keepAlive->setCurrentIndex(keepAlive->findData(QStringLiteral("custom")));
  QVERIFY(doc.value("origin.keep_alive").is_object());
  QCOMPARE(doc.value("origin.keep_alive.timeout_ms"), json(75000.0));
  type(editor<QLineEdit>(form, "origin.keep_alive.timeout_ms"), QStringLiteral("2000"));
  QCOMPARE(doc.value("origin.keep_alive.timeout_ms"), json(2000));
  keepAlive->setCurrentIndex(keepAlive->findText(QStringLiteral("off")));
  QCOMPARE(doc.value("origin.keep_alive"), json("off"));
  QVERIFY(!editor<QLineEdit>(form, "origin.keep_alive.timeout_ms")->isEnabledTo(&form));

  QVERIFY2(doc.isValid(), doc.errors().empty() ? "" : doc.errors()[0].reason.c_str());
  int compared = 0;
  const QStringList diffs = formAgainstDocument(form, doc, &compared);
  QVERIFY2(diffs.isEmpty(), qPrintable(diffs.join('\n')));
}

void FormTest::documentEditsUpdateTheForm() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  QVERIFY(doc.setValue("client.connections_per_host", 3));
  QCOMPARE(editor<QLineEdit>(form, "client.connections_per_host")->text(), QStringLiteral("3"));
  QVERIFY(doc.setValue("client_link.preset", "wpt-3g"));
  QCOMPARE(editor<QComboBox>(form, "client_link.preset")->currentText(), QStringLiteral("wpt-3g"));
  QVERIFY(doc.setValue("client_link.slow_start.enabled", true));
  QVERIFY(editor<QCheckBox>(form, "client_link.slow_start.enabled")->isChecked());

  // From the JSON tab: the whole text replaced.
  json edited = doc.json();
  edited["client_link"] = {{"rtt_ms", 120}, {"down", {{"rate_bps", 5e6}}}};
  edited["experiment"]["sweep"] = {
      {{"path", "client_link.rtt_ms"}, {"from", 100}, {"to", 300}, {"step", 100}}};
  doc.setText(QString::fromStdString(edited.dump(2)));
  QCOMPARE(editor<QLineEdit>(form, "client_link.rtt_ms")->text(), QStringLiteral("120"));
  QCOMPARE(editor<QLineEdit>(form, "client_link.down.rate_bps")->text(), QStringLiteral("5000000"));
  QCOMPARE(editor<QComboBox>(form, "client_link.preset")->currentIndex(), 0);  // (none)
  QCOMPARE(editor<QLineEdit>(form, "experiment.sweep[0].from")->text(), QStringLiteral("100"));
  QCOMPARE(editor<QComboBox>(form, "experiment.sweep[0]#kind")->currentIndex(), 1);  // range
  int compared = 0;
  const QStringList diffs = formAgainstDocument(form, doc, &compared);
  QVERIFY2(diffs.isEmpty(), qPrintable(diffs.join('\n')));
}

void FormTest::invalidValuesAreMarkedAtTheField() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  auto* conns = editor<QLineEdit>(form, "client.connections_per_host");
  QVERIFY(!conns->property("invalid").toBool());

  QVERIFY(doc.setValue("client.connections_per_host", 0));
  const auto errors = doc.errorsAt("client.connections_per_host");
  QCOMPARE(errors.size(), std::size_t(1));
  const QString reason = QString::fromStdString(errors[0].reason);
  QVERIFY(conns->property("invalid").toBool());
  QVERIFY2(conns->toolTip().contains(reason), qPrintable(conns->toolTip()));
  auto* line = form.findChild<QLabel*>(QStringLiteral("client.connections_per_host#error"));
  QVERIFY(line && !line->isHidden() && line->text().contains(reason));
  QVERIFY(form.generalErrors().isEmpty());  // shown at its field, not at the top

  type(conns, QStringLiteral("4"));
  QVERIFY(!conns->property("invalid").toBool());
  QVERIFY(line->isHidden());

  // Typed out of range: the loader's range reaches the field (the editor takes any number).
  auto* delay = editor<QLineEdit>(form, "client_link.up.delay_ms");
  type(delay, QStringLiteral("99999999"));
  QCOMPARE(doc.value("client_link.up.delay_ms"), json(99999999));
  QVERIFY(delay->property("invalid").toBool());
  QVERIFY2(delay->toolTip().contains(QLatin1String("must be a number in 0..3600000")),
           qPrintable(delay->toolTip()));
  // Its section header turns red and opens.
  auto* header = form.findChild<QToolButton*>(QStringLiteral("client_link.up#section"));
  QVERIFY(header && header->property("invalid").toBool() && header->property("expanded").toBool());

  // A choice the schema lacks, from the JSON tab, is shown as it is and marked.
  QVERIFY(doc.setValue("client_link.setup", "fastest"));
  auto* setup = editor<QComboBox>(form, "client_link.setup");
  QVERIFY(setup->currentText().contains(QLatin1String("fastest")));
  QVERIFY(setup->property("invalid").toBool());
}

void FormTest::clearingAFieldRemovesTheKey() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  type(editor<QLineEdit>(form, "client.connections_per_host"), QString());
  QVERIFY(doc.value("client.connections_per_host").is_null());
  QVERIFY(!doc.json()["client"].contains("connections_per_host"));
  QVERIFY(editor<QLineEdit>(form, "client.connections_per_host")
              ->placeholderText()
              .startsWith(QLatin1String("6")));

  editor<QComboBox>(form, "client_link.preset")->setCurrentIndex(0);  // (none)
  QVERIFY(!doc.json()["client_link"].contains("preset"));

  auto* tls = editor<QCheckBox>(form, "origin.tls");
  tls->setChecked(true);
  QCOMPARE(doc.value("origin.tls"), json(true));
  QVERIFY(!tls->actions().isEmpty());
  tls->actions().first()->trigger();  // the context menu's "Reset to default"
  QVERIFY(!doc.json()["origin"].contains("tls"));
  QVERIFY(!tls->isChecked());
}

void FormTest::resourcesTableAddsEditsAndRemoves() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("seed-3-images-30ms.json")), nullptr));
  auto* table = editor<QTableWidget>(form, "page.resources");
  QVERIFY(table);
  QCOMPARE(editor<QComboBox>(form, "page#source")->currentIndex(), 0);  // listed
  QCOMPARE(table->rowCount(), 3);
  QCOMPARE(table->item(1, 0)->text(), QStringLiteral("/img2.jpg"));
  QCOMPARE(table->item(1, 2)->text(), QStringLiteral("30000"));

  form.findChild<QPushButton*>(QStringLiteral("page.resources#add"))->click();
  QCOMPARE(doc.value("page.resources").size(), std::size_t(4));
  QCOMPARE(table->rowCount(), 4);
  QVERIFY(doc.isValid());  // the new row is complete and its path unique
  table->item(3, 2)->setText(QStringLiteral("12345"));
  QCOMPARE(doc.value("page.resources[3].size"), json(12345));
  table->item(3, 0)->setText(QStringLiteral("/style.css"));
  table->item(3, 1)->setText(QStringLiteral("text/css"));
  QCOMPARE(doc.value("page.resources[3]"),
           json({{"path", "/style.css"}, {"type", "text/css"}, {"size", 12345}}));

  // A bad size is the loader's to reject; the cell is marked with its reason.
  table->item(3, 2)->setText(QStringLiteral("lots"));
  QCOMPARE(doc.value("page.resources[3].size"), json("lots"));
  QVERIFY(table->property("invalid").toBool());
  QVERIFY(!table->item(3, 2)->toolTip().isEmpty());
  QVERIFY(table->item(3, 2)->background().color() != table->item(3, 0)->background().color());
  table->item(3, 2)->setText(QStringLiteral("100"));
  QVERIFY(!table->property("invalid").toBool());

  table->selectRow(0);
  form.findChild<QPushButton*>(QStringLiteral("page.resources#remove"))->click();
  QCOMPARE(doc.value("page.resources").size(), std::size_t(3));
  QCOMPARE(doc.value("page.resources[0].path"), json("/img2.jpg"));
  QCOMPARE(table->rowCount(), 3);
  QCOMPARE(table->item(0, 0)->text(), QStringLiteral("/img2.jpg"));
}

void FormTest::pageSourceSwitchConverts() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  auto* source = editor<QComboBox>(form, "page#source");
  auto* table = editor<QTableWidget>(form, "page.resources");
  QVERIFY(table->isHidden() || !table->isVisibleTo(&form));
  source->setCurrentIndex(0);  // listed: the generated resources become rows
  QVERIFY(!doc.json()["page"].contains("generate"));
  QCOMPARE(doc.value("page.resources").size(), std::size_t(30));
  QCOMPARE(doc.value("page.resources[0].size"), json(15000));
  QVERIFY(doc.isValid());
  QVERIFY(table->isVisibleTo(&form));
  source->setCurrentIndex(1);  // back: a count and the size range
  QVERIFY(!doc.json()["page"].contains("resources"));
  QCOMPARE(doc.value("page.generate"),
           json({{"count", 30}, {"min_bytes", 15000}, {"max_bytes", 15000}}));
}

void FormTest::sweepEditsWriteTheAxes() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("server-keepalive-wan.json")), nullptr));
  auto* values = editor<QLineEdit>(form, "experiment.sweep[0].values");
  type(values, QStringLiteral("5, 50"));
  QCOMPARE(doc.value("experiment.sweep[0].values"), json({5, 50}));

  editor<QComboBox>(form, "experiment.sweep[0]#kind")->setCurrentIndex(1);  // range
  QCOMPARE(doc.value("experiment.sweep[0]"),
           json({{"path", "server_link.rtt_ms"}, {"from", 5}, {"to", 50}, {"step", 45}}));
  type(editor<QLineEdit>(form, "experiment.sweep[0].step"), QStringLiteral("15"));
  QCOMPARE(doc.value("experiment.sweep[0].step"), json(15));
  editor<QComboBox>(form, "experiment.sweep[0]#kind")->setCurrentIndex(0);  // the loaded values
  QCOMPARE(doc.value("experiment.sweep[0].values"), json({5, 20, 35, 50}));

  form.findChild<QPushButton*>(QStringLiteral("experiment.sweep#add"))->click();
  QCOMPARE(doc.value("experiment.sweep").size(), std::size_t(2));
  QCOMPARE(doc.value("experiment.sweep[1].path"), json("client_link.rtt_ms"));
  auto* path = editor<QComboBox>(form, "experiment.sweep[1].path");
  path->setEditText(QStringLiteral("origin.tls_version"));
  emit path->lineEdit()->editingFinished();
  type(editor<QLineEdit>(form, "experiment.sweep[1].values"), QStringLiteral("1.2, 1.3"));
  // The swept field holds a string, so 1.2 is taken as "1.2".
  QCOMPARE(doc.value("experiment.sweep[1].values"), json({"1.2", "1.3"}));
  QVERIFY(doc.isValid());

  // A value the swept field rejects is marked at the values box.
  type(editor<QLineEdit>(form, "experiment.sweep[1].values"), QStringLiteral("\"1.4\""));
  QVERIFY(editor<QLineEdit>(form, "experiment.sweep[1].values")->property("invalid").toBool());
  QVERIFY(editor<QLineEdit>(form, "experiment.sweep[1].values")
              ->toolTip()
              .contains(QLatin1String("origin.tls_version")));

  form.findChild<QToolButton*>(QStringLiteral("experiment.sweep[1]#remove"))->click();
  QCOMPARE(doc.value("experiment.sweep").size(), std::size_t(1));
  form.findChild<QToolButton*>(QStringLiteral("experiment.sweep[0]#remove"))->click();
  QVERIFY(!doc.json()["experiment"].contains("sweep"));
}

void FormTest::errorsWithoutAFieldAreListedAtTheTop() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  auto* top = form.findChild<QLabel*>(QStringLiteral("scenarioForm#errors"));
  QVERIFY(top && top->isHidden());
  json edited = doc.json();
  edited["bogus"] = 1;
  edited["proxy"] = {{"threads", 0}};  // the testbed's: no editor
  doc.setText(QString::fromStdString(edited.dump()));
  const QString all = form.generalErrors().join('\n');
  QVERIFY2(all.contains(QLatin1String("bogus: unknown key")), qPrintable(all));
  QVERIFY2(all.contains(QLatin1String("proxy.threads")), qPrintable(all));
  QVERIFY(!top->isHidden());
  QVERIFY(top->text().contains(QLatin1String("bogus")));

  doc.setText(QStringLiteral("{ broken"));
  QVERIFY(form.generalErrors().join('\n').contains(QLatin1String("does not parse")));
  QCOMPARE(editor<QComboBox>(form, "client_link.preset")->currentText(), QStringLiteral("geo"));
}

void FormTest::refreshNeverWritesBack() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QSignalSpy changed(&doc, &ScenarioDocument::changed);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("origin-memory.json")), nullptr));
  QVERIFY(!doc.isModified());
  const json loaded = doc.json();
  // Refreshes with invalid and odd values must not be "corrected" by the form either.
  json odd = loaded;
  odd["client"]["connections_per_host"] = 6.0;
  odd["client_link"]["down"] = {{"delay_ms", "slow"}};
  odd["experiment"]["modes"] = json::array();
  odd["page"]["resources"] = {{{"path", "/a"}, {"type", "x/y"}, {"size", -1}}};
  changed.clear();
  doc.setText(QString::fromStdString(odd.dump()));
  QCOMPARE(changed.count(), 1);
  QVERIFY(doc.json() == odd);
  QVERIFY(editor<QLineEdit>(form, "client_link.down.delay_ms")->property("invalid").toBool());
  QVERIFY(form.fieldFor(QStringLiteral("experiment.modes"))->property("invalid").toBool());
  QVERIFY(editor<QTableWidget>(form, "page.resources")->property("invalid").toBool());
}

void FormTest::ownEditKeepsTheCursor() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  auto* rtt = editor<QLineEdit>(form, "client_link.rtt_ms");
  rtt->setText(QStringLiteral("450"));
  rtt->setCursorPosition(1);
  emit rtt->editingFinished();
  QCOMPARE(doc.value("client_link.rtt_ms"), json(450));
  QCOMPARE(rtt->text(), QStringLiteral("450"));
  QCOMPARE(rtt->cursorPosition(), 1);
  // Another field's change leaves it alone too.
  QVERIFY(doc.setValue("client.users", 2));
  QCOMPARE(rtt->cursorPosition(), 1);
}

void FormTest::fitsThePanel() {
  ScenarioDocument doc;
  ScenarioForm form(&doc);
  QVERIFY(doc.load(scenarioFile(QStringLiteral("seed-3-images-30ms.json")), nullptr));
  // The window's scenario dock is at least 360 px wide, less its frame and tabs.
  const int least = form.minimumSizeHint().width();
  QVERIFY2(least > 200 && least <= 340, qPrintable(QString::number(least)));
  form.resize(420, 800);
  form.show();
  QVERIFY(QTest::qWaitForWindowExposed(&form));
  auto* content = form.findChild<QWidget*>(QStringLiteral("scenarioForm#content"));
  QVERIFY(content->width() <= 420);
  // SATLINK_FORM_PNG=FILE.png: pictures of the form for a look at the layout: as opened, with
  // errors, and with every group open (also in 1000 px pieces, for viewers that shrink them).
  const QString png = qEnvironmentVariable("SATLINK_FORM_PNG");
  if (png.isEmpty()) return;
  auto file = [&](const QString& suffix) {
    return QString(png).replace(QLatin1String(".png"), suffix + QLatin1String(".png"));
  };
  auto grabAll = [&](const QString& name) {
    const int h = content->heightForWidth(420);
    form.resize(420, (h > 0 ? h : content->sizeHint().height()) + 4);
    for (int i = 0; i < 6; ++i) QCoreApplication::processEvents();  // layouts settle by level
    return form.grab().save(name);
  };
  QVERIFY(grabAll(png));
  QVERIFY(doc.load(scenarioFile(QStringLiteral("geo-600ms.json")), nullptr));
  QVERIFY(doc.setValue("client.connections_per_host", 0));
  QVERIFY(doc.setValue("client_link.rtt_ms", "fast"));
  QVERIFY(doc.setValue("proxy.threads", 0));
  QVERIFY(grabAll(file(QStringLiteral("-errors"))));
  QVERIFY(doc.load(scenarioFile(QStringLiteral("seed-3-images-30ms.json")), nullptr));
  for (int round = 0; round < 4; ++round)  // opening a group shows its subgroups' headers
    for (auto* header : form.findChildren<QToolButton*>())
      if (header->objectName().endsWith('#' + QStringLiteral("section")) &&
          !header->property("expanded").toBool())
        header->click();
  QVERIFY(grabAll(file(QStringLiteral("-open"))));
  for (int y = 0, n = 1; y < form.height(); y += 1000, ++n)
    QVERIFY(form.grab(QRect(0, y, 420, 1000)).save(file(QStringLiteral("-open-%1").arg(n))));
}

QTEST_MAIN(FormTest)
#include "gui_form_test.moc"
