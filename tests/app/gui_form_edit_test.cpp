// The scenario form's edits, offscreen: what the user types, picks, adds and removes is written
// to the document (the key cleared, the table rows, the page source, the sweep axes), and the
// form's own edit keeps the cursor. Part of FormTest (gui_form_test.hpp).
#include <QAction>
#include <QPushButton>
#include <QToolButton>

#include "gui_form_helpers.hpp"
#include "gui_form_test.hpp"

using namespace form_test;

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
