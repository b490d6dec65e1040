// The scenario form (ScenarioForm) bound to a ScenarioDocument, offscreen: it shows what the
// document holds, marks the loader's errors at their fields, and never writes back when the
// document changes under it. What the user's edits write is in gui_form_edit_test.cpp (the
// same test class and executable); the shared helpers are in gui_form_helpers.hpp.
#include <QDir>
#include <QLabel>
#include <QScrollArea>
#include <QToolButton>
#include <fstream>

#include "gui_form_helpers.hpp"
#include "gui_form_test.hpp"

using namespace form_test;

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
