// The scenario form's QtTest class. Its tests are defined in two files of one executable:
// gui_form_test.cpp (what the form shows, errors, layout; QTEST_MAIN) and gui_form_edit_test.cpp
// (what the user's edits write), so each stays a readable size.
#pragma once

#include <QObject>

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
