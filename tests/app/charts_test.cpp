// The chart library on a real (tiny) run: every chart is drawn and exported as PNG, SVG and PDF,
// and each file is what its format promises.
#include <gtest/gtest.h>

#include <QApplication>
#include <QFile>
#include <QImage>
#include <QSvgRenderer>
#include <QTemporaryDir>

#include "charts.hpp"

namespace satlink::charts {
namespace {

struct RunOfScenario {
  sim::Scenario scenario;
  sim::ExperimentPlan plan;
  std::vector<sim::TrialResult> results;
};

RunOfScenario run(const char* json) {
  RunOfScenario r;
  auto loaded = sim::load_scenario(nlohmann::json::parse(json));
  EXPECT_TRUE(loaded.ok()) << satlink::proxycore::format_errors(loaded.errors);
  r.scenario = loaded.scenario;
  r.plan = sim::plan_experiment(r.scenario);
  std::atomic<bool> cancel{false};
  r.results = sim::run_experiment(r.plan, {}, {}, cancel);
  return r;
}

constexpr const char* kTwoModes = R"({"satlink_scenario": 1, "name": "tiny",
  "client_link": {"rtt_ms": 20}, "server_link": {"rtt_ms": 1},
  "page": {"generate": {"count": 6, "min_bytes": 1000, "max_bytes": 4000}},
  "experiment": {"modes": ["keep-alive", "close"], "repetitions": 2}})";

void expectValid(const QString& path, Format f) {
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly)) << path.toStdString();
  const QByteArray bytes = file.readAll();
  switch (f) {
    case Format::Png: {
      QImage image;
      ASSERT_TRUE(image.loadFromData(bytes, "PNG")) << path.toStdString();
      EXPECT_EQ(image.width(), kWidth);
      EXPECT_EQ(image.height(), kHeight);
      break;
    }
    case Format::Pdf: EXPECT_TRUE(bytes.startsWith("%PDF-")) << path.toStdString(); break;
    case Format::Svg: EXPECT_TRUE(QSvgRenderer(bytes).isValid()) << path.toStdString(); break;
  }
}

TEST(Charts, EveryChartInEveryFormat) {
  const RunOfScenario r = run(kTwoModes);
  ASSERT_EQ(r.results.size(), 4u);
  QTemporaryDir dir;
  QString error;
  const QList<Format> formats{Format::Png, Format::Svg, Format::Pdf};
  const QStringList files = writeCharts(dir.path(), r.scenario, r.plan, r.results, formats, error);
  EXPECT_TRUE(error.isEmpty()) << error.toStdString();
  // comparison, breakdown, and per mode a waterfall and connections: 6 charts x 3 formats
  EXPECT_EQ(files.size(), 18);
  for (const QString& f : files) {
    const Format format = f.endsWith(".png") ? Format::Png : f.endsWith(".svg") ? Format::Svg : Format::Pdf;
    expectValid(f, format);
  }
}

TEST(Charts, SweepChartWithNonNumericAxis) {
  const RunOfScenario r = run(R"({"satlink_scenario": 1, "name": "setup models",
    "client_link": {"rtt_ms": 20}, "server_link": {"rtt_ms": 1},
    "page": {"generate": {"count": 3, "min_bytes": 1000, "max_bytes": 1000}},
    "experiment": {"modes": ["close"], "repetitions": 1,
                   "sweep": [{"path": "client_link.setup", "values": ["seed", "tcp", "none"]}]}})");
  QTemporaryDir dir;
  QString error;
  const QStringList files = writeCharts(dir.path(), r.scenario, r.plan, r.results, {Format::Png}, error);
  EXPECT_TRUE(files.contains(dir.filePath("sweep.png")));
  expectValid(dir.filePath("sweep.png"), Format::Png);
  const sim::Sweep s = sim::sweep(r.plan, r.results);
  EXPECT_FALSE(s.numeric);
  ASSERT_EQ(s.lines.size(), 1u);
  ASSERT_EQ(s.lines[0].measured_ms.size(), 3u);
  // seed costs more than tcp, tcp more than none: the chart's three points are in that order
  EXPECT_GT(s.lines[0].measured_ms[0].mean, s.lines[0].measured_ms[1].mean);
  EXPECT_GT(s.lines[0].measured_ms[1].mean, s.lines[0].measured_ms[2].mean);
}

TEST(Charts, AFailedExportSaysWhy) {
  const RunOfScenario r = run(kTwoModes);
  QString error;
  const QStringList files =
      writeCharts("/proc/no-such-dir/charts", r.scenario, r.plan, r.results, {Format::Png}, error);
  EXPECT_TRUE(files.isEmpty());
  EXPECT_TRUE(error.contains("/proc/no-such-dir")) << error.toStdString();
}

TEST(Charts, FormatsParse) {
  QList<Format> out;
  QString error;
  EXPECT_TRUE(parseFormats("png, SVG,pdf", out, error));
  EXPECT_EQ(out.size(), 3);
  EXPECT_FALSE(parseFormats("png,gif", out, error));
  EXPECT_TRUE(error.contains("gif"));
}

}  // namespace
}  // namespace satlink::charts

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
