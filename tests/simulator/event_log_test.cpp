#include "satlink/simulator/event_log.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace satlink::simulator {
namespace {

TEST(EventLog, ProxyEventsArriveThroughTheSinkAdapter) {
  EventLog log;
  auto sink = log.proxy_sink();
  sink->on_event({123, proxycore::EventKind::server_connect_end, proxycore::Side::server, 7, 3, 0});
  const auto events = log.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].is(proxycore::EventKind::server_connect_end));
  EXPECT_FALSE(events[0].is(LinkEvent::accept));
  EXPECT_EQ(events[0].conn, 7u);
  EXPECT_EQ(events[0].request, 3u);
  EXPECT_EQ(kind_name(events[0]), "server_connect_end");
}

TEST(EventLog, WaitForSeesEventsFromOtherThreads) {
  EventLog log;
  std::thread writer([&] {
    for (int i = 0; i < 1000; ++i) {
      LogEvent e;
      e.component = Component::origin;
      e.kind = static_cast<std::uint8_t>(OriginEvent::request);
      log.add(e);
    }
  });
  EXPECT_TRUE(log.wait_for([](const auto& v) { return v.size() == 1000; },
                           std::chrono::seconds(10)));
  writer.join();
  EXPECT_FALSE(log.wait_for([](const auto& v) { return v.size() > 1000; },
                            std::chrono::milliseconds(1)));
  EXPECT_EQ(kind_name(log.events()[0]), "request");
}

}  // namespace
}  // namespace satlink::simulator
