// A node's logs: the monitor that sends its workers' new lines to their
// drivers (labels, unfinished lines, bounds, a worker's last words), and
// the LogService that lists and reads the log files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/async_call.h"
#include "common/output_label.h"
#include "common/rpc.h"
#include "common/server_queue.h"
#include "raylet/log_monitor.h"
#include "raylet/log_service.h"

namespace glint::raylet {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("glint-logs-" + std::to_string(getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string File(const std::string& name) const { return (path / name).string(); }
};

void Append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

proto::JobInfo Job(const std::string& id, bool to_driver = true) {
  proto::JobInfo j;
  j.set_job_id(id);
  j.mutable_driver()->set_ip("127.0.0.1");
  j.mutable_driver()->set_port(1);
  j.set_log_to_driver(to_driver);
  return j;
}

// A monitor whose batches are kept here; each is taken at once unless
// `hold` (then done() runs when Release() says).
struct Monitor {
  std::vector<proto::PushLogsRequest> sent;
  std::vector<std::function<void(bool)>> held;
  bool hold = false;
  LogMonitor monitor{"node-id-bytes", [this](const proto::Address&, proto::PushLogsRequest b,
                                             std::function<void(bool)> done) {
                       sent.push_back(std::move(b));
                       if (hold) {
                         held.push_back(std::move(done));
                       } else {
                         done(true);
                       }
                     }};
  // Every line sent, as "label|line".
  std::vector<std::string> Lines() const {
    std::vector<std::string> out;
    for (auto& b : sent) {
      for (auto& w : b.workers()) {
        for (auto& l : w.lines()) out.push_back(w.label() + "|" + l);
      }
    }
    return out;
  }
};

TEST(LogMonitorTest, SendsNewLinesUnderTheLabelTheWorkerWroteBeforeThem) {
  TempDir dir;
  std::string file = dir.File("worker-a.log");
  Append(file, "loader says hi\n");
  Monitor m;
  m.monitor.Watch("w1", 1234, Job("job1"), file);
  m.monitor.Poll();
  Append(file, OutputLabelLine("Counter") + "counter at 1\nhalf a li");
  m.monitor.Poll();
  Append(file, "ne\n" + OutputLabelLine("Greet") + "greeting\n");
  m.monitor.Poll();
  EXPECT_EQ(m.Lines(), (std::vector<std::string>{"|loader says hi", "Counter|counter at 1", "Counter|half a line",
                                                  "Greet|greeting"}));
  ASSERT_FALSE(m.sent.empty());
  EXPECT_EQ(m.sent[0].job_id(), "job1");
  EXPECT_EQ(m.sent[0].workers(0).pid(), 1234);
  EXPECT_EQ(m.sent[0].workers(0).node_id(), "node-id-bytes");
}

TEST(LogMonitorTest, AnUnfinishedLineBeforeALabelIsKeptAndTheLastWordsOfAnExitedWorkerAreSent) {
  TempDir dir;
  std::string file = dir.File("worker-b.log");
  Append(file, "");  // the spawner made it
  Monitor m;
  m.monitor.Watch("w1", 7, Job("job1"), file);
  Append(file, "no newline yet" + OutputLabelLine("f") + "dying words");
  m.monitor.Poll();
  EXPECT_EQ(m.Lines(), (std::vector<std::string>{"|no newline yet"}));
  EXPECT_EQ(m.monitor.watched(), 1u);
  m.monitor.Exited("w1");
  m.monitor.Poll();
  EXPECT_EQ(m.Lines(), (std::vector<std::string>{"|no newline yet", "f|dying words"}));
  EXPECT_EQ(m.monitor.watched(), 0u) << "an exited worker's file is let go once read to its end";
}

TEST(LogMonitorTest, AJobThatAskedForNoOutputGetsNone) {
  TempDir dir;
  std::string file = dir.File("worker-c.log");
  Append(file, "");  // the spawner made it
  Monitor m;
  m.monitor.Watch("w1", 7, Job("quiet", /*to_driver=*/false), file);
  Append(file, "printed\n");
  m.monitor.Poll();
  EXPECT_TRUE(m.sent.empty());
}

TEST(LogMonitorTest, OneBatchPerJobInFlightAndASlowDriverLosesLinesPastTheBoundCounted) {
  TempDir dir;
  std::string file = dir.File("worker-d.log");
  Append(file, "");  // the spawner made it
  Monitor m;
  m.hold = true;
  m.monitor.Watch("w1", 7, Job("job1"), file);
  Append(file, "first\n");
  m.monitor.Poll();
  ASSERT_EQ(m.sent.size(), 1u);
  // The driver has not taken the first batch: nothing more is sent, and
  // what waits is bounded.
  std::string line(1000, 'x');
  int64_t lines = 2 * LogMonitor::kMaxPendingBytes / 1000;
  std::string chunk;
  for (int64_t i = 0; i < lines; ++i) chunk += line + "\n";
  Append(file, chunk);
  for (int i = 0; i < 100 && m.sent.size() == 1; ++i) m.monitor.Poll();  // reads over several polls
  EXPECT_EQ(m.sent.size(), 1u);
  m.held[0](true);
  m.monitor.Poll();
  ASSERT_EQ(m.sent.size(), 2u);
  int64_t got = 0;
  for (auto& w : m.sent[1].workers()) got += w.lines_size();
  EXPECT_GT(got, 0);
  EXPECT_LE(got * 1000, LogMonitor::kMaxPendingBytes);
  EXPECT_EQ(got + m.sent[1].dropped_lines(), lines) << "every line is either sent or counted as dropped";
}

TEST(LogMonitorTest, ALineWithoutEndIsCutAtTheBound) {
  TempDir dir;
  std::string file = dir.File("worker-e.log");
  Append(file, "");  // the spawner made it
  Monitor m;
  m.monitor.Watch("w1", 7, Job("job1"), file);
  Append(file, std::string(LogMonitor::kMaxLineBytes + 10, 'y'));
  m.monitor.Poll();
  auto lines = m.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 1 + LogMonitor::kMaxLineBytes);
}

// LogService over a real server on loopback, served from a queue as the raylet serves it.
struct Service {
  TempDir dir;
  LogService service{"node-id-bytes", dir.path.string()};
  ServerQueue queue;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<proto::LogService::Stub> stub;
  ClientQueueThread client;
  Service() {
    int port = 0;
    server = *StartServer("127.0.0.1", 0, {&service}, kRayletLimits, &port, queue.slot());
    service.Serve(queue.cq());
    queue.Start("glint-test-rpc");
    stub = MakeStub<proto::LogService>("127.0.0.1:" + std::to_string(port));
  }
  absl::Status Read(proto::ReadLogRequest req, proto::ReadLogReply* reply) {
    return BlockingCall(client.queue(), stub.get(), &proto::LogService::Stub::PrepareAsyncReadLog, req, 5000, reply);
  }
  ~Service() {
    client.Stop();
    server->Shutdown();
    queue.Stop();
  }
};

TEST(LogServiceTest, ListsTheFilesAndReadsFromAnOffsetOrTheLastLines) {
  Service s;
  Append(s.dir.File("worker-1.log"), "one\ntwo\nthree\n");
  fs::create_directories(s.dir.path / "a-directory");
  fs::create_symlink("/etc/passwd", s.dir.path / "a-link");
  proto::ListLogsReply list;
  ASSERT_TRUE(BlockingCall(s.client.queue(), s.stub.get(), &proto::LogService::Stub::PrepareAsyncListLogs,
                           proto::ListLogsRequest(), 5000, &list)
                  .ok());
  ASSERT_EQ(list.files_size(), 1) << "plain files only";
  EXPECT_EQ(list.files(0).name(), "worker-1.log");
  EXPECT_EQ(list.files(0).size(), 14);

  proto::ReadLogRequest req;
  req.set_name("worker-1.log");
  req.set_offset(-1);
  req.set_tail_lines(2);
  proto::ReadLogReply r;
  ASSERT_TRUE(s.Read(req, &r).ok());
  EXPECT_EQ(r.data(), "two\nthree\n");
  EXPECT_EQ(r.offset(), 4);
  EXPECT_EQ(r.size(), 14);
  req.set_tail_lines(10);
  ASSERT_TRUE(s.Read(req, &r).ok());
  EXPECT_EQ(r.data(), "one\ntwo\nthree\n") << "fewer lines than asked: all of them";
  req.set_tail_lines(0);
  ASSERT_TRUE(s.Read(req, &r).ok());
  EXPECT_EQ(r.data(), "");
  EXPECT_EQ(r.offset(), 14) << "no lines: from the end (to follow what comes)";
  req.set_offset(8);
  req.set_max_bytes(3);
  ASSERT_TRUE(s.Read(req, &r).ok());
  EXPECT_EQ(r.data(), "thr");
}

TEST(LogServiceTest, ReadsOnlyPlainFileNamesInItsDirectory) {
  Service s;
  fs::create_symlink("/etc/hostname", s.dir.path / "a-link");
  for (std::string name : {"../../etc/passwd", "/etc/passwd", "", "..", "a-link", "missing.log"}) {
    proto::ReadLogRequest req;
    req.set_name(name);
    proto::ReadLogReply r;
    auto st = s.Read(req, &r);
    EXPECT_FALSE(st.ok()) << name;
    EXPECT_TRUE(r.data().empty()) << name;
  }
}

}  // namespace
}  // namespace glint::raylet
