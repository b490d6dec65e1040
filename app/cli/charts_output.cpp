#include "charts_output.hpp"

#include <QApplication>
#include <stdlib.h>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <memory>
#include <stdexcept>

#include "charts.hpp"

namespace satlink::cli {

std::vector<std::string> write_charts(const std::string& dir, const simulator::Scenario& scenario,
                                      const simulator::ExperimentPlan& plan,
                                      const std::vector<simulator::TrialResult>& results,
                                      const std::vector<std::string>& formats) {
  // QCustomPlot is a widget: it needs a QApplication, which needs a platform. Without a display
  // Qt would abort on xcb; offscreen renders the same charts.
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM"))
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
  // Without a session (cron, CI, ssh) Qt warns that XDG_RUNTIME_DIR is unset; a private temporary
  // directory is what it wants.
  std::string runtime_dir;
  if (!std::getenv("XDG_RUNTIME_DIR")) {
    char runtime[] = "/tmp/satlink-runtime-XXXXXX";
    if (::mkdtemp(runtime)) setenv("XDG_RUNTIME_DIR", (runtime_dir = runtime).c_str(), 1);
  }
  struct RemoveAtEnd {  // after the QApplication below is gone
    std::string dir;
    ~RemoveAtEnd() {
      if (dir.empty()) return;
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      unsetenv("XDG_RUNTIME_DIR");
    }
  } remove_at_end{runtime_dir};
  static int argc = 1;
  static char name[] = "satlink-cli";
  static char* argv[] = {name, nullptr};
  std::unique_ptr<QApplication> app;
  if (!QApplication::instance()) app = std::make_unique<QApplication>(argc, argv);
  QList<charts::Format> list;
  QString error;
  QStringList joined;
  for (const auto& f : formats) joined << QString::fromStdString(f);
  if (!charts::parseFormats(joined.join(','), list, error)) throw std::runtime_error(error.toStdString());
  const QStringList files = charts::writeCharts(QString::fromStdString(dir), scenario, plan, results, list, error);
  if (!error.isEmpty()) throw std::runtime_error(error.toStdString());
  std::vector<std::string> out;
  for (const QString& f : files) out.push_back(f.toStdString());
  return out;
}

}  // namespace satlink::cli
