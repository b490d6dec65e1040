// satlink: the desktop workbench. `satlink [SCENARIO.json]` opens the file (else the default
// scenario, the 600 ms satellite question).
#include <QApplication>
#include <QCommandLineParser>

#include "main_window.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("satlink"));
  QApplication::setOrganizationName(QStringLiteral("Satlink"));
  QApplication::setApplicationDisplayName(QStringLiteral("Satlink Workbench"));
  QApplication::setApplicationVersion(QStringLiteral(SATLINK_VERSION));
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/satlink.svg")));
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "What HTTP keep-alive saves over a slow, high-latency link, measured and charted."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("scenario"), QStringLiteral("a scenario JSON file to open"),
                               QStringLiteral("[SCENARIO.json]"));
  const QCommandLineOption run(QStringLiteral("run"), QStringLiteral("start the experiment right away"));
  parser.addOption(run);
  parser.process(app);
  if (parser.positionalArguments().size() > 1) {
    fputs("satlink: one scenario at a time (see --help)\n", stderr);
    return 2;
  }
  satlink::gui::MainWindow window;
  if (!parser.positionalArguments().isEmpty()) window.openFile(parser.positionalArguments().front());
  window.resize(1280, 800);
  window.show();
  if (parser.isSet(run)) window.runExperiment();
  return QApplication::exec();
}
