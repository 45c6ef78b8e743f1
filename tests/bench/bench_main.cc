// glint_bench: Ray's microbenchmark set rebuilt for Glint, each figure next to
// a bare gRPC echo between two processes measured in the same run.
//
//   glint_bench            full run (about 2 s per figure)
//   glint_bench --short    a few iterations of each, to check they run (CI)
//   glint_bench --only=actor,tasks   only the figures whose names contain one
//                          of the words (the yardsticks always run)
//   glint_bench --seconds=10         how long to measure each figure (default 2)
//   glint_bench --no-auth            the private cluster without a token (the
//                                    cost of authentication, by comparison)
//   glint_bench --tls                the private cluster with TLS on every
//                                    channel (certificates made with openssl)
//   glint_bench --no-fork-workers    every worker started from scratch (what
//                                    the job's fork server saves, by comparison)
//   glint_bench --object-store-dir=DIR   the raylets' stores in DIR, e.g. a
//                                    tmpfs mounted with huge=always (2 MiB pages)
//
// Uses the cluster at $GLINT_ADDRESS, or starts a private one (GCS + raylet).
#include <glint/api.h>
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <functional>
#include <future>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "common/launcher.h"
#include "common/process.h"
#include "common/session.h"
#include "testing/certificates.h"
#include "tests/bench/echo.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Mode {
  bool full = true;
  double seconds = 2.0;
  int min_iters = 3;
  std::vector<std::string> only;  // empty: every figure
  bool no_auth = false;
  bool tls = false;
  bool no_rpc_metrics = false;  // the raylets do not time their RPCs (what timing costs)
  bool no_fork_workers = false;  // every worker starts from scratch (what fork servers save)
  std::string object_store_dir;  // where the raylets keep their stores (default: theirs, /dev/shm)
} g_mode;

bool Wanted(const std::string& name) {
  if (g_mode.only.empty() || name.rfind("gRPC echo", 0) == 0) return true;
  for (auto& w : g_mode.only) {
    if (name.find(w) != std::string::npos) return true;
  }
  return false;
}

// ---- remote code -----------------------------------------------------------

int SmallValue() { return 1; }

class Sink {
 public:
  static Sink* Create() { return new Sink(); }
  int Small() { return 1; }
  int Twice(int v) { return 2 * v; }
};

// Holds its one thread for `ms`, so calls queue behind it.
class Sleeper {
 public:
  static Sleeper* Create() { return new Sleeper(); }
  int Nap(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  }
  int Small() { return 1; }
};

class AsyncSink {
 public:
  static AsyncSink* Create() { return new AsyncSink(); }
  glint::Async<int> Small() { co_return 1; }
  glint::Async<std::vector<uint8_t>> Bytes(int64_t n) { co_return std::vector<uint8_t>(static_cast<size_t>(n), 1); }
};

std::vector<uint8_t> Bytes(int64_t n) { return std::vector<uint8_t>(static_cast<size_t>(n), 1); }

glint::Generator<int> Items(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

// A producer and a consumer of `n` items through one queue.
int Produce(glint::Queue<int> q, int n) {
  for (int i = 0; i < n; ++i) q.Put(i);
  return n;
}
int Consume(glint::Queue<int> q, int n) {
  int sum = 0;
  for (int i = 0; i < n; ++i) sum += q.Get();
  return sum;
}

GLINT_REMOTE(SmallValue, Bytes, Items, Produce, Consume, Sink::Create, &Sink::Small, &Sink::Twice, Sleeper::Create, &Sleeper::Nap, &Sleeper::Small,
             AsyncSink::Create, &AsyncSink::Small, &AsyncSink::Bytes);

// ---- harness ---------------------------------------------------------------

struct Row {
  std::string name;
  double rate = -1;  // ops/s (or GB/s when unit says so); < 0: n/a
  std::string unit = "ops/s";
  std::string yardstick;  // "sync", "async", or "memcpy <size>" (a row of that name)
  std::string note;
};

// Measures a figure (`rate()`) if it was asked for.
void Add(std::vector<Row>& rows, std::string name, const std::function<double()>& rate, std::string unit = "ops/s",
         std::string yardstick = "", std::string note = "") {
  if (!Wanted(name)) return;
  rows.push_back({std::move(name), rate(), std::move(unit), std::move(yardstick), std::move(note)});
}

// Runs `batch` (which does `per_batch` operations) until the time is up.
double Measure(const std::function<void()>& batch, double per_batch) {
  batch();  // warm-up
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(g_mode.seconds);
  long iters = 0;
  while (iters < g_mode.min_iters || (g_mode.full && Clock::now() < end)) {
    batch();
    ++iters;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return iters * per_batch / secs;
}

// ---- the gRPC yardstick ----------------------------------------------------

class EchoService final : public glint::bench::Echo::CallbackService {
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* ctx, const glint::bench::EchoMsg* req,
                                 glint::bench::EchoMsg* reply) override {
    reply->set_data(req->data());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

// In a child process: serves the echo until stdin closes.
[[noreturn]] void RunEchoServer(int port_fd) {
  EchoService service;
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&service);
  auto server = b.BuildAndStart();
  if (write(port_fd, &port, sizeof(port)) != sizeof(port)) _exit(1);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  server->Shutdown();
  _exit(0);
}

struct EchoServer {
  pid_t pid = 0;
  int stdin_fd = -1;
  int port = 0;
};

EchoServer StartEchoServer() {
  int ports[2], in[2];
  if (pipe(ports) != 0 || pipe(in) != 0) throw std::runtime_error("pipe");
  EchoServer s;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(in[0], 0);
    close(in[1]);
    close(ports[0]);
    // A fresh process image is not needed: the child has not started gRPC.
    RunEchoServer(ports[1]);
  }
  close(in[0]);
  close(ports[1]);
  s.stdin_fd = in[1];
  if (read(ports[0], &s.port, sizeof(s.port)) != sizeof(s.port)) throw std::runtime_error("echo server");
  close(ports[0]);
  return s;
}

void StopEchoServer(EchoServer& s) {
  close(s.stdin_fd);
  waitpid(s.pid, nullptr, 0);
}

double EchoSync(glint::bench::Echo::Stub* stub) {
  glint::bench::EchoMsg req, reply;
  req.set_data("12345678");
  return Measure(
      [&] {
        for (int i = 0; i < 100; ++i) {
          grpc::ClientContext ctx;
          stub->Ping(&ctx, req, &reply);
        }
      },
      100);
}

double EchoAsync(glint::bench::Echo::Stub* stub, int in_flight) {
  glint::bench::EchoMsg req;
  req.set_data("12345678");
  return Measure(
      [&] {
        // `in_flight` calls outstanding at all times, 10 * in_flight in all.
        // A call's callback issues the next one before it counts itself
        // done, under the lock: the last count is the last touch of this
        // frame's locals (the waiter returns, and they go, after it).
        std::atomic<int> left{10 * in_flight};
        int done = 0;
        std::mutex mu;
        std::condition_variable cv;
        std::function<void()> issue = [&] {
          if (left.fetch_sub(1) <= 0) return;
          struct Call {
            grpc::ClientContext ctx;
            glint::bench::EchoMsg reply;
          };
          auto* c = new Call();
          stub->async()->Ping(&c->ctx, &req, &c->reply, [&, c](grpc::Status) {
            delete c;
            issue();
            std::lock_guard l(mu);
            if (++done == 10 * in_flight) cv.notify_all();
          });
        };
        for (int i = 0; i < in_flight; ++i) issue();
        std::unique_lock l(mu);
        cv.wait(l, [&] { return done == 10 * in_flight; });
      },
      10.0 * in_flight);
}

// The echo's client, in a child process that measures when asked: a byte
// on `cmd` runs both echo figures and writes them to `out`; EOF ends it.
struct EchoClient {
  pid_t pid = 0;
  int cmd = -1, out = -1;
};

EchoClient StartEchoClient(int port) {
  int cmd[2], out[2];
  if (pipe(cmd) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
  EchoClient c;
  c.pid = fork();
  if (c.pid == 0) {
    close(cmd[1]);
    close(out[0]);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
    auto stub = glint::bench::Echo::NewStub(channel);
    char b;
    while (read(cmd[0], &b, 1) == 1) {
      double r[2] = {EchoSync(stub.get()), EchoAsync(stub.get(), 1000)};
      if (write(out[1], r, sizeof(r)) != sizeof(r)) _exit(1);
    }
    _exit(0);
  }
  close(cmd[0]);
  close(out[1]);
  c.cmd = cmd[1];
  c.out = out[0];
  return c;
}

std::array<double, 2> MeasureEcho(const EchoClient& c) {
  std::array<double, 2> r = {-1, -1};
  char b = 'm';
  if (write(c.cmd, &b, 1) != 1 || read(c.out, r.data(), sizeof(double) * 2) != sizeof(double) * 2) {
    std::cerr << "the echo client failed\n";
  }
  return r;
}

void StopEchoClient(EchoClient& c) {
  close(c.cmd);
  close(c.out);
  waitpid(c.pid, nullptr, 0);
}

// ---- Glint figures ---------------------------------------------------------

template <typename F>
double AsyncBatch(F submit, int n) {
  return Measure(
      [&] {
        std::vector<glint::ObjectRef<int>> refs;
        refs.reserve(n);
        for (int i = 0; i < n; ++i) refs.push_back(submit(i));
        for (auto& r : refs) r.Get();
      },
      n);
}

// In a child process: calls the named actors "nn-<i>" asynchronously for the
// run's duration; prints the calls per second.
int RunNnCaller(int num_actors) {
  glint::Init();
  std::vector<glint::ActorHandle<Sink>> actors;
  for (int i = 0; i < num_actors; ++i) actors.push_back(*glint::GetActor<Sink>("nn-" + std::to_string(i), "bench"));
  double rate = AsyncBatch([&](int i) { return actors[i % actors.size()].Task(&Sink::Small).Remote(); }, 1000);
  std::cout << rate << std::endl;
  glint::Shutdown();
  return 0;
}

double NnAsync(const std::string& self, int callers, int num_actors) {
  std::vector<glint::ActorHandle<Sink>> actors;
  for (int i = 0; i < num_actors; ++i) {
    actors.push_back(glint::Actor(Sink::Create).SetName("nn-" + std::to_string(i)).SetNamespace("bench").Remote());
    actors.back().Task(&Sink::Small).Remote().Get();
  }
  std::vector<std::pair<pid_t, FILE*>> kids;
  for (int c = 0; c < callers; ++c) {
    int out[2];
    if (pipe(out) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::string n = std::to_string(num_actors);
      execl(self.c_str(), self.c_str(), "nn-caller", n.c_str(), g_mode.full ? "" : "--short", nullptr);
      _exit(127);
    }
    close(out[1]);
    kids.emplace_back(pid, fdopen(out[0], "r"));
  }
  double total = 0;
  for (auto& [pid, f] : kids) {
    double r = 0;
    if (fscanf(f, "%lf", &r) == 1) total += r;
    fclose(f);
    waitpid(pid, nullptr, 0);
  }
  for (auto& a : actors) glint::Kill(a);
  return total;
}

// GB/s of pulls into this node's store of `size`-byte objects made on the
// node with resource `where`.
// Seconds to pull an object of `size` bytes made on a node with resource
// `where` (once made, before it is pulled).
double PullOnce(int64_t size, const std::string& where) {
  auto remote = glint::Task(Bytes).SetResources({{where, 1}}).Remote(size);
  std::vector<glint::ObjectRef<std::vector<uint8_t>>> one = {remote};
  glint::Wait(one, 1, std::chrono::minutes(5), /*fetch_local=*/false);
  auto start = Clock::now();
  glint::Wait(one, 1, std::chrono::minutes(5), /*fetch_local=*/true);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double PullRate(int64_t size, const std::string& where) {
  double total_secs = 0;
  int n = 0;
  do {
    total_secs += PullOnce(size, where);
    ++n;
  } while (n < 2 || (g_mode.full && total_secs < g_mode.seconds));
  return n * size / total_secs / 1e9;
}

// Steady state: runs `op` (which returns its seconds) at least `min_runs`
// times, then until two runs in a row take at most `fast_secs` (at most 16
// runs), so that the store's ranges the measured runs land in have been
// used before (a first touch of a page is costly on some VMs; see
// docs/design-notes.md); the runs' times.
std::vector<double> WarmUp(const std::function<double()>& op, double fast_secs, size_t min_runs = 0) {
  std::vector<double> secs;
  for (int fast = 0; secs.size() < 16 && (fast < 2 || secs.size() < min_runs);) {
    secs.push_back(op());
    fast = secs.back() <= fast_secs ? fast + 1 : 0;
  }
  return secs;
}

// Large objects: put and get GB/s on this node, beside a memcpy of the same
// size (into a buffer already touched), and pulls from other nodes of this
// host: through memory ('remote'), and in chunks over loopback TCP as
// between hosts ('remote_tcp', a node that does not lend its objects).
void LargeObjectRows(std::vector<Row>& rows, bool have_remote_node) {
  std::vector<int64_t> sizes = {100 << 20};
  if (g_mode.full) sizes.push_back(int64_t{1} << 30);
  for (int64_t size : sizes) {
    std::string label = size >= (1 << 30) ? "1 GiB" : "100 MiB";
    std::string yard = "memcpy " + label;
    std::string yard_new = "memcpy " + label + " into a new vector";
    std::string transfer = "transfer GB/s between nodes (" + label + ")";
    std::string transfer_tcp = "transfer GB/s between nodes in chunks over TCP (" + label + ")";
    std::string result = "task result GB/s (" + label + " values)";
    std::string async_result = "async actor result GB/s (" + label + " values)";
    if (!Wanted("put GB/s (" + label) && !Wanted("get GB/s (" + label) && !Wanted(result) &&
        !Wanted(async_result) && !Wanted(transfer) && !Wanted(transfer_tcp)) {
      continue;
    }
    std::vector<uint8_t> value(static_cast<size_t>(size), 3), copy(static_cast<size_t>(size), 0);
    double memcpy_gbs = Measure([&] { std::memcpy(copy.data(), value.data(), value.size()); }, 1) * size / 1e9;
    rows.push_back({yard + " (yardstick)", memcpy_gbs, "GB/s", yard, ""});
    rows.push_back({yard_new + " (yardstick)", Measure([&] { std::vector<uint8_t> fresh(value.begin(), value.end()); }, 1) * size / 1e9, "GB/s", yard_new, ""});
    // Which ranges a put lands in depends on when the previous one's free
    // arrives: puts warm up until two in a row run at a quarter of a memcpy.
    double copy_secs = static_cast<double>(size) / (memcpy_gbs * 1e9);
    WarmUp(
        [&] {
          auto start = Clock::now();
          glint::Put(value);
          return std::chrono::duration<double>(Clock::now() - start).count();
        },
        4 * copy_secs);
    Add(rows, "put GB/s (" + label + " values)", [&] { return Measure([&] { glint::Put(value); }, 1) * size / 1e9; }, "GB/s", yard, "one copy into the node's shared-memory store");
    auto ref = glint::Put(value);
    Add(rows, "get GB/s (" + label + " values)", [&] { return Measure([&] { ref.Get(); }, 1) * size / 1e9; }, "GB/s", yard_new, "unpacked from the store into a new vector");
    ref = {};
    auto buffer_ref = glint::Put(glint::Buffer(value));
    Add(rows, "get GB/s (" + label + " Buffer, in place)", [&] { return Measure([&] { buffer_ref.Get(); }, 1) * size / 1e9; }, "GB/s", yard_new, "a view into the store, pinned while held: O(1)");
    buffer_ref = {};
    // A task that makes a new vector and returns it: the least a task making
    // such a value costs is the yardstick's new vector.
    // The same from an async actor's coroutine method.
    auto result_once = [size](auto call) {
      auto start = Clock::now();
      std::vector<glint::ObjectRef<std::vector<uint8_t>>> one = {call.Remote(size)};
      glint::Wait(one, 1, std::chrono::minutes(5), /*fetch_local=*/false);
      return std::chrono::duration<double>(Clock::now() - start).count();
    };
    auto task = [] { return glint::Task(Bytes); };
    for (int i = 0; Wanted(result) && i < 2; ++i) result_once(task());  // the store's ranges touched once (and Measure's own)
    Add(rows, result, [&] { return Measure([&] { result_once(task()); }, 1) * size / 1e9; }, "GB/s", yard_new,
        "returned by a task into its node's store");
    if (Wanted(async_result)) {
      auto maker = glint::Actor(AsyncSink::Create).Remote();
      auto method = [&maker] { return maker.Task(&AsyncSink::Bytes); };
      for (int i = 0; i < 2; ++i) result_once(method());
      Add(rows, async_result, [&] { return Measure([&] { result_once(method()); }, 1) * size / 1e9; }, "GB/s",
          yard_new, "returned by an async actor's coroutine into its node's store");
      glint::Kill(maker);
    }
    if (!have_remote_node) {
      Add(rows, transfer, [&] { return -1; }, "GB/s", "", "needs nodes with resources 'remote' and 'remote_tcp'");
      continue;
    }
    // Made on another node, then pulled here.
    // Pulls land in this node's store as puts do. A range of its warm part
    // is copied into through the store's mapping after a few copies (the
    // first of those pays for touching it): steady state after 6 pulls or
    // more, the last two at half a memcpy or better. The first pulls' times
    // are shown beside the rate.
    auto first = WarmUp([&] { return PullOnce(size, "remote"); }, 2 * copy_secs, 6);
    std::string warm_note;
    for (double secs : first) warm_note += absl::StrFormat("%s%.0f", warm_note.empty() ? "" : " ", secs * 1000);
    Add(rows, transfer, [&] { return PullRate(size, "remote"); }, "GB/s", yard,
        "a node of this host: one copy, arena to arena; the first pulls, ms: " + warm_note);
    Add(rows, transfer_tcp, [&] { return PullRate(size, "remote_tcp"); }, "GB/s", yard, "as between hosts: chunks over gRPC");
  }
}

std::string Fmt(double v, const std::string& unit) {
  char buf[64];
  if (v < 0) return "n/a";
  if (unit == "GB/s") {
    snprintf(buf, sizeof(buf), "%.2f", v);
  } else {
    snprintf(buf, sizeof(buf), "%.0f", v);
  }
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (getenv("GLINT_WORKER_MODE")) glint::Init();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--short") g_mode.full = false, g_mode.seconds = 0, g_mode.min_iters = 3;
    if (arg.rfind("--seconds=", 0) == 0) g_mode.seconds = std::stod(arg.substr(10));
    if (arg.rfind("--only=", 0) == 0) g_mode.only = absl::StrSplit(arg.substr(7), ',', absl::SkipEmpty());
    if (arg == "--no-auth") g_mode.no_auth = true;
    if (arg == "--tls") g_mode.tls = true;
    if (arg == "--no-rpc-metrics") g_mode.no_rpc_metrics = true;
    if (arg == "--no-fork-workers") g_mode.no_fork_workers = true;
    if (arg.rfind("--object-store-dir=", 0) == 0) g_mode.object_store_dir = arg.substr(19);
  }
  if (argc > 2 && std::string(argv[1]) == "nn-caller") return RunNnCaller(std::stoi(argv[2]));

  // The cluster: $GLINT_ADDRESS, or a private head node with 2 CPUs.
  std::vector<glint::Daemon> own;
  glint::Config config;
  if (!getenv("GLINT_ADDRESS")) {
    auto dir = glint::NewSessionDir();
    glint::NodeOptions o;
    o.gcs_port = 0;
    o.num_cpus = 2;
    o.session_dir = *dir;
    o.watch_pid = getpid();
    o.auth_disabled = g_mode.no_auth;
    if (g_mode.no_rpc_metrics) o.extra_raylet_flags.push_back("--rpc_metrics=false");
    if (g_mode.no_fork_workers) o.extra_raylet_flags.push_back("--fork_workers=false");
    if (!g_mode.object_store_dir.empty()) o.extra_raylet_flags.push_back("--object_store_dir=" + g_mode.object_store_dir);
    if (!o.auth_disabled) o.auth_token = glint::NewAuthToken();  // drivers here find it in the session
    if (g_mode.tls) {
      std::string why;
      auto certs = glint::testing::MakeTestCertificates(&why);
      if (!certs) {
        std::cerr << "--tls: " << why << "\n";
        return 1;
      }
      o.tls = certs->cluster;
    }
    auto d = glint::StartNode(o);
    if (!d.ok()) {
      std::cerr << d.status() << "\n";
      return 1;
    }
    own = *d;
    o.gcs_address = own[0].address;
    o.resources_json = R"({"remote": 4})";
    o.num_cpus = 1;
    auto second = glint::StartNode(o);
    if (!second.ok()) {
      std::cerr << second.status() << "\n";
      return 1;
    }
    own.push_back(second->back());
    // A node that does not lend its objects: pulls from it go as between hosts.
    o.resources_json = R"({"remote_tcp": 4})";
    o.extra_raylet_flags.push_back("--same_host_copy=false");
    auto third = glint::StartNode(o);
    if (!third.ok()) {
      std::cerr << third.status() << "\n";
      return 1;
    }
    own.push_back(third->back());
    config.address = own[0].address;
    setenv("GLINT_ADDRESS", config.address.c_str(), 1);  // for the n:n callers
  }
  // The yardstick first, before any Glint thread exists (it forks): a
  // server process and a client process, so no gRPC thread of theirs stays
  // behind in this one. It is measured again after the Glint figures, and
  // ratios use the mean of both (this VM's speed drifts during a run).
  std::vector<Row> rows;
  EchoServer echo = StartEchoServer();
  EchoClient echo_client = StartEchoClient(echo.port);
  auto before = MeasureEcho(echo_client);
  Add(rows, "gRPC echo, sync (yardstick)", [&] { return before[0]; }, "ops/s", "sync");
  Add(rows, "gRPC echo, 1000 in flight (yardstick)", [&] { return before[1]; }, "ops/s", "async");

  glint::Init(config);
  auto put_ref = glint::Put(1);
  Add(rows, "single client get calls", [&] { return Measure([&] { for (int i = 0; i < 100; ++i) put_ref.Get(); }, 100); }, "ops/s", "sync");
  Add(rows, "single client put calls", [&] { return Measure([&] { for (int i = 0; i < 100; ++i) glint::Put(i); }, 100); }, "ops/s", "sync");
  {
    std::vector<uint8_t> big(10 << 20, 7);
    Add(rows, "single client put GB/s (10 MiB values)", [&] { return Measure([&] { glint::Put(big); }, 1) * big.size() / 1e9; }, "GB/s", "", "Ray's figure; through the node's store");
  }
  LargeObjectRows(rows, !own.empty());
  Add(rows, "tasks sync (submit + get)", [&] { return Measure([] { for (int i = 0; i < 20; ++i) glint::Task(SmallValue).Remote().Get(); }, 20); }, "ops/s", "sync");
  Add(rows, "tasks async (1000 submitted, then get)", [&] { return AsyncBatch([](int) { return glint::Task(SmallValue).Remote(); }, 1000); }, "ops/s", "async");

  auto sink = glint::Actor(Sink::Create).Remote();
  sink.Task(&Sink::Small).Remote().Get();
  Add(rows, "1:1 actor calls sync", [&] { return Measure([&] { for (int i = 0; i < 100; ++i) sink.Task(&Sink::Small).Remote().Get(); }, 100); }, "ops/s", "sync");
  Add(rows, "1:1 actor calls async (1000 in flight)", [&] { return AsyncBatch([&](int) { return sink.Task(&Sink::Small).Remote(); }, 1000); }, "ops/s", "async");
  Add(rows, "generator items (a task yields 1000, the driver reads)", [&] {
    return Measure([] {
      auto gen = glint::Task(Items).Remote(1000);
      for (auto& ref : gen) ref.Get();
    }, 1000);
  }, "ops/s", "async", "items stream on the lease's call stream");
  if (Wanted("cancel latency (a queued actor call, Cancel until Get throws)")) {
    auto sleeper = glint::Actor(Sleeper::Create).Remote();
    sleeper.Task(&Sleeper::Small).Remote().Get();
    auto nap = sleeper.Task(&Sleeper::Nap).Remote(600000);  // the actor is busy from here on
    double rate = Measure([&] {
      for (int i = 0; i < 100; ++i) {
        auto queued = sleeper.Task(&Sleeper::Small).Remote();
        glint::Cancel(queued);
        try {
          queued.Get();
        } catch (const glint::TaskCancelledError&) {
        }
      }
    }, 100);
    char latency[64];
    snprintf(latency, sizeof(latency), "latency %.1f us (submit + cancel + Get)", 1e6 / rate);
    Add(rows, "cancel latency (a queued actor call, Cancel until Get throws)", [&] { return rate; }, "ops/s", "sync",
        latency);
    glint::Kill(sleeper);
  }
  if (Wanted("queue put+get pairs")) {
    glint::Queue<int> q(100);
    Add(rows, "queue put+get pairs (a producer and a consumer task)", [&] {
      return Measure([&] {
        auto produced = glint::Task(Produce).Remote(q, 1000);
        auto consumed = glint::Task(Consume).Remote(q, 1000);
        produced.Get();
        consumed.Get();
      }, 1000);
    }, "ops/s", "sync", "each Put and Get is a call to the queue's actor");
    q.Shutdown();
  }
  if (Wanted("actor pool map items")) {
    std::vector<glint::ActorHandle<Sink>> members;
    for (int i = 0; i < 4; ++i) members.push_back(glint::Actor(Sink::Create).Remote());
    glint::ActorPool<Sink> pool(members);
    std::vector<int> values(1000);
    auto twice = [](glint::ActorHandle<Sink>& a, int v) { return a.Task(&Sink::Twice).Remote(v); };
    Add(rows, "actor pool map items (4 actors)", [&] {
      return Measure([&] { pool.Map(twice, values).ToVector(); }, 1000);
    }, "ops/s", "sync", "one call in flight per actor");
    for (auto& a : members) glint::Kill(a);
  }
  auto threaded = glint::Actor(Sink::Create).SetMaxConcurrency(16).Remote();
  threaded.Task(&Sink::Small).Remote().Get();
  Add(rows, "1:1 actor calls concurrent (16 threads)", [&] { return AsyncBatch([&](int) { return threaded.Task(&Sink::Small).Remote(); }, 1000); }, "ops/s", "async");
  std::vector<glint::ActorHandle<Sink>> many;
  for (int i = 0; i < 4; ++i) many.push_back(glint::Actor(Sink::Create).Remote());
  for (auto& a : many) a.Task(&Sink::Small).Remote().Get();
  Add(rows, "1:n actor calls async (4 actors)", [&] { return AsyncBatch([&](int i) { return many[i % 4].Task(&Sink::Small).Remote(); }, 1000); }, "ops/s", "async");
  Add(rows, "n:n actor calls async (2 callers, 4 actors)", [&] { return NnAsync(glint::SelfExePath(), 2, 4); }, "ops/s", "async");
  Add(rows, "actor creation", [&] { return Measure([] {
                    std::vector<glint::ActorHandle<Sink>> made;
                    for (int i = 0; i < 10; ++i) made.push_back(glint::Actor(Sink::Create).Remote());
                    for (auto& a : made) a.Task(&Sink::Small).Remote().Get();
                    for (auto& a : made) glint::Kill(a);
                  }, 10); }, "ops/s", "", "create + first call");
  auto lookup_me = glint::Actor(Sink::Create).SetName("lookup-me").Remote();  // lives while its handle does
  lookup_me.Task(&Sink::Small).Remote().Get();
  if (Wanted("named-actor lookups (GetActor)")) {
    double lookups = Measure([] { for (int i = 0; i < 20; ++i) glint::GetActor<Sink>("lookup-me"); }, 20);
    char latency[64];
    snprintf(latency, sizeof(latency), "latency %.0f us", 1e6 / lookups);
    Add(rows, "named-actor lookups (GetActor)", [&] { return lookups; }, "ops/s", "sync", latency);
  }
  auto async_sink = glint::Actor(AsyncSink::Create).Remote();
  async_sink.Task(&AsyncSink::Small).Remote().Get();
  Add(rows, "async-actor calls sync", [&] { return Measure([&] { for (int i = 0; i < 100; ++i) async_sink.Task(&AsyncSink::Small).Remote().Get(); }, 100); }, "ops/s", "sync");
  Add(rows, "async-actor calls async (1000 in flight)", [&] { return AsyncBatch([&](int) { return async_sink.Task(&AsyncSink::Small).Remote(); }, 1000); }, "ops/s", "async");
  // As Ray's microbenchmark measures it: create a batch, wait for each,
  // remove each (Ray: 100 groups of one bundle; 791/s on 64 vCPUs).
  Add(rows, "placement group create/remove", [&] {
    glint::PlacementGroupOptions one;
    one.bundles = {{{"CPU", 0.01}}};
    constexpr int kBatch = 100;
    return Measure([&] {
      std::vector<glint::PlacementGroup> pgs;
      for (int i = 0; i < kBatch; ++i) pgs.push_back(glint::CreatePlacementGroup(one));
      for (auto& pg : pgs) {
        if (!pg.Wait(std::chrono::seconds(30))) throw glint::Error("a placement group was not placed");
      }
      for (auto& pg : pgs) glint::RemovePlacementGroup(pg);
    }, kBatch);
  }, "ops/s", "sync", "100 groups of one bundle: create all, Wait for each, remove each (as Ray)");
  // Several threads of one driver at once: the GCS's bundle steps for a
  // raylet that arrive while a call to it is in flight go together in the
  // next call (gcs/bundle_calls.h).
  Add(rows, "placement group create/remove, 4 threads", [&] {
    glint::PlacementGroupOptions one;
    one.bundles = {{{"CPU", 0.01}}};
    constexpr int kThreads = 4, kBatch = 25;  // 1 CPU in all, which the head has free
    auto batch = [&] {
      std::vector<glint::PlacementGroup> pgs;
      for (int i = 0; i < kBatch; ++i) pgs.push_back(glint::CreatePlacementGroup(one));
      for (auto& pg : pgs) {
        if (!pg.Wait(std::chrono::seconds(30))) throw glint::Error("a placement group was not placed");
      }
      for (auto& pg : pgs) glint::RemovePlacementGroup(pg);
    };
    return Measure([&] {
      std::vector<std::future<void>> threads;
      for (int t = 0; t < kThreads; ++t) threads.push_back(std::async(std::launch::async, batch));
      for (auto& t : threads) t.get();
    }, kThreads * kBatch);
  }, "ops/s", "sync", "4 threads, each: 25 groups of one bundle created, waited for, removed");
  Add(rows, "placement group create/remove, one at a time", [&] {
    glint::PlacementGroupOptions one;
    one.bundles = {{{"CPU", 1}}};
    return Measure([&] {
      for (int i = 0; i < 10; ++i) {
        auto pg = glint::CreatePlacementGroup(one);
        if (!pg.Wait(std::chrono::seconds(30))) throw glint::Error("a placement group was not placed");
        glint::RemovePlacementGroup(pg);
      }
    }, 10);
  }, "ops/s", "sync", "one bundle: create, Wait until placed, remove");
  glint::Shutdown();
  for (auto it = own.rbegin(); it != own.rend(); ++it) glint::StopDaemon(it->pid, 3000);
  auto after = MeasureEcho(echo_client);
  StopEchoClient(echo_client);
  StopEchoServer(echo);
  Add(rows, "gRPC echo, sync, again at the end (yardstick)", [&] { return after[0]; }, "ops/s", "sync");
  Add(rows, "gRPC echo, 1000 in flight, again at the end (yardstick)", [&] { return after[1]; }, "ops/s", "async");

  double sync_y = (before[0] + after[0]) / 2, async_y = (before[1] + after[1]) / 2;
  auto yardstick = [&](const std::string& y) {
    if (y == "sync") return sync_y;
    if (y == "async") return async_y;
    for (auto& r : rows) {
      if (r.name == y + " (yardstick)") return r.rate;
    }
    return -1.0;
  };
  std::printf("\n%-56s %14s  %-6s %10s  %s\n", "benchmark", "rate", "unit", "vs gRPC", "note");
  std::printf("%s\n", std::string(100, '-').c_str());
  for (auto& r : rows) {
    std::string ratio = "";
    if (r.rate >= 0 && yardstick(r.yardstick) > 0) {
      char buf[32];
      snprintf(buf, sizeof(buf), "%.2fx", r.rate / yardstick(r.yardstick));
      ratio = buf;
    }
    std::printf("%-56s %14s  %-6s %10s  %s\n", r.name.c_str(), Fmt(r.rate, r.unit).c_str(), r.unit.c_str(),
                ratio.c_str(), r.note.c_str());
  }
  std::printf("\n%s mode; ratios compare with the sync or the 1000-in-flight gRPC echo (the mean of its two runs),\n"
              "or a memcpy of the same size.\n",
              g_mode.full ? "full" : "short (smoke test, not a measurement)");
  return 0;
}
