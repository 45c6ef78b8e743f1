#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/rpc.h"
#include "raylet/bundles.h"
#include "raylet/lease_manager.h"
#include "raylet/worker_pool.h"

namespace glint::raylet {
namespace {

// Spawns nothing: records pids and kills; the test plays the worker.
class FakeSpawner : public WorkerSpawner {
 public:
  absl::StatusOr<pid_t> Spawn(const std::string& worker_id, const proto::JobInfo&) override {
    spawned.push_back(worker_id);
    if (while_spawning) while_spawning();
    return next_pid++;
  }
  std::function<void()> while_spawning;  // runs inside Spawn, as another thread could
  void Kill(pid_t pid) override { killed.push_back(pid); }
  bool Alive(pid_t pid) override { return std::find(killed.begin(), killed.end(), pid) == killed.end(); }
  bool ShouldWait(const std::string& job_id) override { return wait_for.count(job_id) > 0; }
  void JobEnded(const std::string& job_id) override { ended.push_back(job_id); }
  std::vector<std::string> ended;  // as the spawner heard it
  std::set<std::string> wait_for;  // jobs whose fork server is about to be ready
  std::vector<std::string> spawned;
  std::vector<pid_t> killed;
  pid_t next_pid = 100;
};

proto::JobInfo Job(const std::string& id) {
  proto::JobInfo j;
  j.set_job_id(id);
  return j;
}

class LeaseTest : public ::testing::Test {
 protected:
  LeaseTest() : pool_(&spawner_, Self()), leases_("self", {{"CPU", 2}, {"GPU", 0}}, &pool_) {}
  static proto::Address Self() {
    proto::Address a;
    a.set_ip("127.0.0.1");
    a.set_port(5000);
    return a;
  }
  proto::LeaseRequest Req(double cpu, const std::string& job = "j1") {
    proto::LeaseRequest r;
    *r.mutable_job() = Job(job);
    (*r.mutable_resources())["CPU"] = cpu;
    return r;
  }
  // Requests a lease; the reply lands in replies_[tag].
  void Ask(const std::string& tag, const proto::LeaseRequest& r) {
    leases_.Request(r, [this, tag](const proto::LeaseReply& reply) { replies_[tag] = reply; });
  }
  void RegisterLast(int port) {
    ASSERT_TRUE(pool_.OnRegistered(spawner_.spawned.back(), port, 0, "").ok());
  }

  FakeSpawner spawner_;
  WorkerPool pool_;
  LeaseManager leases_;
  std::map<std::string, proto::LeaseReply> replies_;
};

TEST_F(LeaseTest, GrantsOnceTheSpawnedWorkerRegisters) {
  Ask("a", Req(1));
  EXPECT_EQ(spawner_.spawned.size(), 1u);
  EXPECT_FALSE(replies_.count("a")) << "no grant before the worker is ready";
  RegisterLast(6001);
  ASSERT_TRUE(replies_["a"].has_worker());
  EXPECT_EQ(replies_["a"].worker().port(), 6001);
  EXPECT_EQ(leases_.Available().at("CPU"), 1);
}

TEST_F(LeaseTest, QueuesWhenBusyAndReusesTheReturnedWorker) {
  Ask("a", Req(2));
  RegisterLast(6001);
  Ask("b", Req(1));
  EXPECT_EQ(leases_.QueueLength(), 1u);
  EXPECT_FALSE(replies_.count("b"));
  leases_.Return(replies_["a"].lease_id(), 0);
  ASSERT_TRUE(replies_["b"].has_worker());
  EXPECT_EQ(replies_["b"].worker().port(), 6001) << "the idle worker is reused, not respawned";
  EXPECT_EQ(spawner_.spawned.size(), 1u);
}

TEST_F(LeaseTest, InfeasibleSpillsToANodeThatFitsElseAClearError) {
  auto r = Req(1);
  (*r.mutable_resources())["special"] = 1;
  Ask("none", r);
  EXPECT_TRUE(replies_["none"].has_error());
  EXPECT_NE(replies_["none"].error().message().find("special"), std::string::npos);
  proto::NodeInfo other;
  other.set_node_id("other");
  other.set_alive(true);
  other.mutable_address()->set_port(5001);
  (*other.mutable_total_resources())["special"] = 2;
  (*other.mutable_total_resources())["CPU"] = 1;
  leases_.SetClusterView({other});
  Ask("spill", r);
  ASSERT_TRUE(replies_["spill"].has_spillback());
  EXPECT_EQ(replies_["spill"].spillback().port(), 5001);
  r.set_grant_or_reject(true);
  Ask("strict", r);
  EXPECT_TRUE(replies_["strict"].has_error());
}

TEST_F(LeaseTest, QueuedWorkMovesToANodeThatFreesUp) {
  proto::NodeInfo other;
  other.set_node_id("other");
  other.set_alive(true);
  other.mutable_address()->set_port(5001);
  (*other.mutable_total_resources())["CPU"] = 2;
  (*other.mutable_available_resources())["CPU"] = 0;  // busy a moment ago
  leases_.SetClusterView({other});
  for (auto tag : {"a", "b", "c", "d", "e"}) Ask(tag, Req(1));
  EXPECT_EQ(leases_.QueueLength(), 3u) << "two fit here; the other node was busy, so three queue";
  // The other node frees up: two of the queued requests go there, one stays
  // (it fits nowhere now), and the order among the rest is kept.
  (*other.mutable_available_resources())["CPU"] = 2;
  leases_.SetClusterView({other});
  ASSERT_TRUE(replies_["c"].has_spillback());
  ASSERT_TRUE(replies_["d"].has_spillback());
  EXPECT_EQ(replies_["d"].spillback().port(), 5001);
  EXPECT_FALSE(replies_.count("e")) << "no room left anywhere: it waits here";
  EXPECT_EQ(leases_.QueueLength(), 1u);
  // A caller that asked for this node only is never moved. A request
  // spilled here once (on a view a heartbeat old) waits here on arrival, and
  // moves once more when another node frees up; one spilled here twice
  // stays (two busy nodes cannot toss it between them).
  auto strict = Req(1);
  strict.set_grant_or_reject(true);
  Ask("strict", strict);
  auto spilled = Req(1);
  spilled.set_spillback_count(1);
  Ask("spilled", spilled);
  auto twice = Req(1);
  twice.set_spillback_count(LeaseManager::kMaxSpillbacksToMove);
  Ask("twice", twice);
  EXPECT_FALSE(replies_.count("spilled")) << "a spilled request that fits waits here";
  EXPECT_EQ(leases_.QueueLength(), 4u);
  (*other.mutable_available_resources())["CPU"] = 4;
  leases_.SetClusterView({other});
  EXPECT_FALSE(replies_.count("strict"));
  EXPECT_TRUE(replies_["e"].has_spillback()) << "a first-hand request moves";
  ASSERT_TRUE(replies_["spilled"].has_spillback()) << "so does one spilled here once";
  EXPECT_EQ(replies_["spilled"].spillback().port(), 5001);
  EXPECT_FALSE(replies_.count("twice"));
  EXPECT_EQ(leases_.QueueLength(), 2u);
}

TEST_F(LeaseTest, BlockedWorkerLendsItsCpu) {
  Ask("a", Req(2));
  RegisterLast(6001);
  Ask("b", Req(1));
  EXPECT_FALSE(replies_.count("b"));
  leases_.SetBlocked(replies_["a"].worker().worker_id(), true);
  RegisterLast(6002);
  ASSERT_TRUE(replies_["b"].has_worker()) << "a nested task must not starve behind its blocked parent";
  leases_.SetBlocked(replies_["a"].worker().worker_id(), false);
  leases_.Return(replies_["b"].lease_id(), 0);
  leases_.Return(replies_["a"].lease_id(), 0);
  EXPECT_EQ(leases_.Available().at("CPU"), 2) << "every CPU comes back exactly once";
}

TEST_F(LeaseTest, DisconnectedWorkerIsKilledNotReused) {
  Ask("a", Req(2));
  RegisterLast(6001);
  leases_.Return(replies_["a"].lease_id(), 0, /*disconnect=*/true);
  EXPECT_EQ(spawner_.killed, std::vector<pid_t>{100});
  Ask("b", Req(1));
  EXPECT_EQ(spawner_.spawned.size(), 2u) << "a failed worker is never handed out again";
}

TEST_F(LeaseTest, WorkerDeathReleasesItsLease) {
  Ask("a", Req(2));
  RegisterLast(6001);
  auto w = pool_.OnExit(100, "killed");
  ASSERT_TRUE(w.has_value());
  leases_.OnWorkerGone(w->worker_id);
  EXPECT_EQ(leases_.Available().at("CPU"), 2);
}

TEST_F(LeaseTest, AWorkerThatDiesWhileStartingIsACrashAndOneThatCannotLoadIsNot) {
  Ask("killed", Req(1));
  pool_.OnExit(100, "killed by signal 9");
  ASSERT_TRUE(replies_["killed"].has_error());
  EXPECT_EQ(replies_["killed"].error().type(), proto::WORKER_CRASHED) << "worth asking again";
  EXPECT_NE(replies_["killed"].error().message().find("signal 9"), std::string::npos);
  EXPECT_EQ(leases_.Available().at("CPU"), 2) << "its resources come back";
  Ask("broken", Req(1));
  ASSERT_TRUE(pool_.OnRegistered(spawner_.spawned.back(), 0, 0, "cannot load libx.so").ok());
  EXPECT_EQ(replies_["broken"].error().type(), proto::CODE_LOAD_FAILED);
}

TEST(WorkerPoolTest, StartupErrorAndEarlyExitFailThePop) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address());
  std::string error;
  pool.Pop(Job("j"), WorkerFor::kTask, [&](absl::StatusOr<WorkerInfo> w) { error = std::string(w.status().message()); });
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[0], 0, 0, "cannot load /x/y").ok());
  EXPECT_EQ(error, "cannot load /x/y");
  pool.Pop(Job("j"), WorkerFor::kTask, [&](absl::StatusOr<WorkerInfo> w) { error = std::string(w.status().message()); });
  pool.OnExit(101, "exit code 3");
  EXPECT_NE(error.find("exit code 3"), std::string::npos);
  EXPECT_FALSE(pool.OnRegistered("unknown", 1, 1, "").ok());
}

TEST(WorkerPoolTest, AtMostSoManyWorkersStartAtOnceAndTheRestWaitInOrder) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address(), /*max_starting=*/2);
  std::vector<std::string> served;  // which request got a worker, in order
  auto ask = [&](const std::string& tag, const std::string& job, WorkerFor use = WorkerFor::kActor) {
    pool.Pop(Job(job), use, [&served, tag](absl::StatusOr<WorkerInfo> w) {
      served.push_back(tag + (w.ok() ? "" : ":" + std::string(w.status().message())));
    });
  };
  for (const char* tag : {"a1", "a2", "a3", "a4"}) ask(tag, "a");
  ask("b1", "b", WorkerFor::kTask);
  EXPECT_EQ(spawner.spawned.size(), 2u) << "two start; three wait";
  EXPECT_EQ(pool.Waiting(), 3u);
  // One registers: the next in line starts (not the last one asked).
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[0], 1, 0, "").ok());
  EXPECT_EQ(spawner.spawned.size(), 3u);
  // One dies while starting: its request fails, and the next starts.
  pool.OnExit(101, "killed by signal 9");
  EXPECT_EQ(spawner.spawned.size(), 4u);
  EXPECT_EQ(pool.Waiting(), 1u);
  // Job b ends while its task's request still waits: it fails, and starts nothing.
  pool.KillJob("b");
  EXPECT_EQ(pool.Waiting(), 0u);
  EXPECT_EQ(spawner.spawned.size(), 4u);
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[2], 3, 0, "").ok());
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[3], 4, 0, "").ok());
  ASSERT_EQ(served.size(), 5u);
  EXPECT_EQ(served[0], "a1");
  EXPECT_NE(served[1].find("a2:the worker process exited before it was ready"), std::string::npos) << served[1];
  EXPECT_EQ(served[2], "b1:the job ended before a worker could start for it");
  EXPECT_EQ(served[3], "a3");
  EXPECT_EQ(served[4], "a4");
}

// While a job's fork server starts, its new workers wait for it (the
// spawner says so) without holding up another job's; the raylet's tick
// serves them, in order, once it is ready.
TEST(WorkerPoolTest, AJobsWorkersWaitForItsForkServerWithoutHoldingUpOthers) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address());
  std::vector<std::string> served;
  auto ask = [&](const std::string& tag, const std::string& job) {
    pool.Pop(Job(job), WorkerFor::kActor, [&served, tag](absl::StatusOr<WorkerInfo>) { served.push_back(tag); });
  };
  ask("a1", "a");  // the job's first: it starts (and starts the server)
  spawner.wait_for.insert("a");
  ask("a2", "a");
  ask("a3", "a");
  ask("b1", "b");
  ASSERT_EQ(spawner.spawned.size(), 2u) << "a1 and b1 start; a2 and a3 wait for job a's server";
  EXPECT_EQ(pool.Waiting(), 2u);
  pool.ServeWaiting();  // a tick while the server still starts
  EXPECT_EQ(spawner.spawned.size(), 2u);
  spawner.wait_for.clear();  // ready
  pool.ServeWaiting();
  ASSERT_EQ(spawner.spawned.size(), 4u);
  EXPECT_EQ(pool.Waiting(), 0u);
  for (size_t i = 0; i < spawner.spawned.size(); ++i) ASSERT_TRUE(pool.OnRegistered(spawner.spawned[i], 10 + i, 0, "").ok());
  EXPECT_EQ(served, (std::vector<std::string>{"a1", "b1", "a2", "a3"}));
}

// A job's detached actors, starting or waiting to start, outlive it: the
// raylet starts them in their turn. Its other actors and tasks on their
// way end with it (a worker being made is killed, a request waiting fails)
// and so do its later ones, so that no worker starts only to be killed.
TEST(WorkerPoolTest, AnEndedJobsDetachedActorsOnTheirWayStillStartAndTheRestDoNot) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address(), 2);
  std::vector<std::string> served;
  auto ask = [&](const std::string& tag, WorkerFor use) {
    pool.Pop(Job("a"), use, [&served, tag](absl::StatusOr<WorkerInfo> w) {
      served.push_back(w.ok() ? tag : tag + ":" + std::string(w.status().message()));
    });
  };
  ask("detached1", WorkerFor::kDetachedActor);  // starts (pid 100)
  ask("actor1", WorkerFor::kActor);             // starts (pid 101)
  ask("detached2", WorkerFor::kDetachedActor);  // waits for a start-up slot
  ask("actor2", WorkerFor::kActor);             // waits too
  ask("task1", WorkerFor::kTask);               // waits too
  ASSERT_EQ(spawner.spawned.size(), 2u);
  ASSERT_EQ(pool.Waiting(), 3u);
  pool.KillJob("a");
  EXPECT_EQ(spawner.killed, std::vector<pid_t>{101}) << "the starting detached actor's worker lives on";
  EXPECT_EQ(pool.Waiting(), 1u) << "the detached actor still waits";
  pool.OnExit(101, "killed by signal 9");
  ASSERT_EQ(spawner.spawned.size(), 3u) << "the waiting detached actor starts in its turn";
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[0], 1, 0, "").ok());
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[2], 2, 0, "").ok());
  const std::string ended = ":the job ended before a worker could start for it";
  EXPECT_EQ(served, (std::vector<std::string>{"actor2" + ended, "task1" + ended, "actor1" + ended, "detached1",
                                              "detached2"}));
  // Later requests of the ended job: only a detached actor's starts.
  ask("actor3", WorkerFor::kActor);
  ask("task2", WorkerFor::kTask);
  EXPECT_EQ(spawner.spawned.size(), 3u);
  ask("detached3", WorkerFor::kDetachedActor);
  ASSERT_EQ(spawner.spawned.size(), 4u);
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[3], 3, 0, "").ok());
  EXPECT_EQ(served.back(), "detached3");
  EXPECT_EQ(served[5], "actor3" + ended);
  EXPECT_EQ(served[6], "task2" + ended);
  EXPECT_EQ(spawner.killed.size(), 1u);
  pool.KillJob("");  // the node stops: every worker goes
  EXPECT_EQ(spawner.killed.size(), 4u);
}

// Work a detached actor makes (TaskSpec.root_detached_actor) outlives its
// job as the actor does: its task workers, leased or on their way, are not
// killed when the job ends, and it gets workers afterwards; the job's other
// task workers go. A worker given back is the job's like any other.
TEST(WorkerPoolTest, TheWorkADetachedActorMakesOutlivesItsJob) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address(), 3);
  std::vector<std::string> served;
  std::vector<WorkerInfo> workers;
  auto ask = [&](const std::string& tag, WorkerFor use) {
    pool.Pop(Job("a"), use, [&, tag](absl::StatusOr<WorkerInfo> w) {
      served.push_back(w.ok() ? tag : tag + ":" + std::string(w.status().message()));
      if (w.ok()) workers.push_back(*w);
    });
  };
  ask("rooted1", WorkerFor::kDetachedTask);  // pid 100, leased
  ask("plain1", WorkerFor::kTask);           // pid 101, leased
  ask("rooted2", WorkerFor::kDetachedTask);  // pid 102, still starting when the job ends
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[0], 1, 0, "").ok());
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[1], 2, 0, "").ok());
  ASSERT_EQ(workers.size(), 2u);
  pool.KillJob("a");
  EXPECT_EQ(spawner.killed, std::vector<pid_t>{101}) << "only the job's own task worker goes";
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[2], 3, 0, "").ok());
  EXPECT_EQ(served, (std::vector<std::string>{"rooted1", "plain1", "rooted2"}));
  // After the job: its detached actor's work gets workers, nothing else does.
  ask("plain2", WorkerFor::kTask);
  EXPECT_EQ(served.back(), "plain2:the job ended before a worker could start for it");
  pool.Push(workers[0].worker_id, 1000);  // rooted1's lease ends: an idle worker of the job
  ask("rooted3", WorkerFor::kDetachedTask);
  EXPECT_EQ(served.back(), "rooted3");
  EXPECT_EQ(workers.back().worker_id, workers[0].worker_id) << "the idle worker serves the next lease";
  EXPECT_EQ(spawner.spawned.size(), 3u);
  ask("rooted4", WorkerFor::kDetachedTask);
  ASSERT_EQ(spawner.spawned.size(), 4u) << "a new one starts for it";
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned[3], 4, 0, "").ok());
  EXPECT_EQ(served.back(), "rooted4");
  // A worker given back once the job is over waits for the next lease, and
  // goes when idle too long, as any idle worker.
  pool.Push(workers.back().worker_id, 2000);
  pool.ReapIdle(3500, 1000);
  EXPECT_EQ(spawner.killed, (std::vector<pid_t>{101, 103}));
}

// What a job keeps for starting its workers (its fork server) stays while
// any of its workers does, so the work its detached actors make after it is
// still forked; it goes with the last of them.
TEST(WorkerPoolTest, AnEndedJobKeepsWhatStartsItsWorkersUntilItsLastWorkerExits) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address(), 0);
  std::vector<WorkerInfo> workers;
  auto ask = [&](const std::string& job, WorkerFor use) {
    pool.Pop(Job(job), use, [&](absl::StatusOr<WorkerInfo> w) {
      ASSERT_TRUE(w.ok()) << w.status();
      workers.push_back(*w);
    });
    ASSERT_TRUE(pool.OnRegistered(spawner.spawned.back(), 1, 0, "").ok());
  };
  ask("a", WorkerFor::kDetachedActor);  // pid 100
  ask("a", WorkerFor::kDetachedTask);   // pid 101
  ask("a", WorkerFor::kTask);           // pid 102
  ask("c", WorkerFor::kTask);           // pid 103
  pool.KillJob("a");
  EXPECT_EQ(spawner.killed, std::vector<pid_t>{102});
  EXPECT_TRUE(spawner.ended.empty()) << "its workers outlive it";
  pool.OnExit(102, "killed");
  EXPECT_TRUE(spawner.ended.empty()) << "two are left";
  pool.KillJob("b");
  EXPECT_EQ(spawner.ended, std::vector<std::string>{"b"}) << "a job with no worker here ends at once";
  pool.KillJob("c");
  EXPECT_EQ(spawner.ended, std::vector<std::string>{"b"}) << "its worker is on its way out";
  pool.OnExit(103, "killed");
  EXPECT_EQ(spawner.ended, (std::vector<std::string>{"b", "c"}));
  pool.OnExit(100, "the detached actor was killed");
  pool.Push(workers[1].worker_id, 1000);
  pool.ReapIdle(3000, 1000);
  EXPECT_EQ(spawner.killed.back(), 101) << "the last one, idle too long";
  EXPECT_EQ(spawner.ended.size(), 2u) << "not gone yet";
  pool.OnExit(101, "killed");
  EXPECT_EQ(spawner.ended, (std::vector<std::string>{"b", "c", "a"}));
}

TEST(WorkerPoolTest, ALeaseRequestSaysWhatItIsFor) {
  proto::LeaseRequest req;
  EXPECT_EQ(UseOf(req), WorkerFor::kTask);
  req.set_root_detached_actor(std::string(16, 'r'));
  EXPECT_EQ(UseOf(req), WorkerFor::kDetachedTask);
  EXPECT_TRUE(OutlivesJob(req));
  req.set_for_actor(true);
  EXPECT_EQ(UseOf(req), WorkerFor::kDetachedActor) << "an actor a detached actor made, detached or not";
  req.clear_root_detached_actor();
  EXPECT_EQ(UseOf(req), WorkerFor::kActor);
  EXPECT_FALSE(OutlivesJob(req));
  req.set_detached(true);
  EXPECT_EQ(UseOf(req), WorkerFor::kDetachedActor);
}

// A job may end while one of its task workers is being made (the raylet's
// threads race): that worker is killed once its process is there, and its
// request fails; later task requests of the job start nothing. Its actors
// may still start (a detached one outlives its job).
TEST(WorkerPoolTest, AJobThatEndsWhileItsWorkerIsMadeGetsNoWorker) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address());
  std::vector<std::string> got;
  auto keep = [&got](absl::StatusOr<WorkerInfo> w) {
    got.push_back(w.ok() ? "worker" : std::string(w.status().message()));
  };
  spawner.while_spawning = [&] { pool.KillJob("a"); };
  pool.Pop(Job("a"), WorkerFor::kTask, keep);
  spawner.while_spawning = nullptr;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "the job ended before a worker could start for it");
  EXPECT_EQ(spawner.killed, std::vector<pid_t>{100}) << "the process made meanwhile is killed";
  EXPECT_EQ(pool.Size(), 0);

  pool.Pop(Job("a"), WorkerFor::kTask, keep);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "the job ended before a worker could start for it");
  EXPECT_EQ(spawner.spawned.size(), 1u) << "a task of an ended job starts nothing";

  pool.Pop(Job("a"), WorkerFor::kDetachedActor, keep);
  ASSERT_EQ(spawner.spawned.size(), 2u) << "a detached actor of the ended job may start";
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned.back(), 7, 0, "").ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], "worker");

  // Another job, its worker being made as the node stops (every job ends).
  spawner.while_spawning = [&] { pool.KillJob(""); };
  pool.Pop(Job("b"), WorkerFor::kTask, keep);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3], "the node is stopping");
  EXPECT_EQ(spawner.killed.back(), 102);
}

// A node that stops ends every start, a detached actor's too, as
// UNAVAILABLE: the GCS then places the actor on another node (as after a
// crashed start) rather than fail it for good, as it would for an ended job.
TEST(WorkerPoolTest, ANodeThatStopsFailsItsStartsAsUnavailable) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address(), 1);
  std::vector<absl::Status> got;
  auto keep = [&got](absl::StatusOr<WorkerInfo> w) { got.push_back(w.status()); };
  pool.Pop(Job("a"), WorkerFor::kDetachedActor, keep);  // starts
  pool.Pop(Job("a"), WorkerFor::kDetachedActor, keep);  // waits for a start-up slot
  ASSERT_EQ(spawner.spawned.size(), 1u);
  pool.KillJob("");
  ASSERT_EQ(spawner.killed, std::vector<pid_t>{100});
  pool.OnExit(100, "killed by signal 9");
  ASSERT_EQ(got.size(), 2u);
  for (auto& s : got) {
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
    EXPECT_EQ(s.message(), "the node is stopping");
  }
  EXPECT_EQ(spawner.spawned.size(), 1u) << "nothing more starts";
}

TEST(WorkerPoolTest, IdleWorkersAreReapedAndJobsKeepTheirOwnWorkers) {
  FakeSpawner spawner;
  WorkerPool pool(&spawner, proto::Address());
  std::vector<WorkerInfo> got;
  auto keep = [&](absl::StatusOr<WorkerInfo> w) { got.push_back(*w); };
  pool.Pop(Job("a"), WorkerFor::kTask, keep);
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned.back(), 1, 0, "").ok());
  pool.Push(got[0].worker_id, 1000);
  pool.Pop(Job("b"), WorkerFor::kTask, keep);
  EXPECT_EQ(spawner.spawned.size(), 2u) << "a worker runs one job's code only";
  ASSERT_TRUE(pool.OnRegistered(spawner.spawned.back(), 2, 0, "").ok());
  pool.Pop(Job("a"), WorkerFor::kActor, keep);
  EXPECT_EQ(got.back().worker_id, got[0].worker_id) << "idle worker of the same job is reused";
  pool.Push(got[1].worker_id, 1000);
  pool.ReapIdle(1500, 1000);
  EXPECT_TRUE(spawner.killed.empty());
  pool.ReapIdle(2500, 1000);
  EXPECT_EQ(spawner.killed, std::vector<pid_t>{101});
  pool.KillJob("a");
  EXPECT_EQ(spawner.killed.size(), 1u) << "actor workers are not killed with their job";
}

}  // namespace
}  // namespace glint::raylet

namespace glint::raylet {
namespace {

TEST_F(LeaseTest, GpuLeasesHoldTheirOwnGpuIdsAndFractionsShareOne) {
  LeaseManager gpus("self", {{"CPU", 8}, {"GPU", 2}}, &pool_, {"3", "7"});
  std::map<std::string, proto::LeaseReply> got;
  auto ask = [&](const std::string& tag, double gpu) {
    proto::LeaseRequest r = Req(0);
    (*r.mutable_resources())["GPU"] = gpu;
    gpus.Request(r, [&got, tag](const proto::LeaseReply& reply) { got[tag] = reply; });
    if (!spawner_.spawned.empty() && !got.count(tag) && gpus.QueueLength() == 0) RegisterLast(6000 + got.size());
  };
  auto ids = [&](const std::string& tag) {
    return std::vector<std::string>(got[tag].gpu_ids().begin(), got[tag].gpu_ids().end());
  };
  ask("half-a", 0.5);
  ask("half-b", 0.5);
  ASSERT_EQ(ids("half-a").size(), 1u);
  EXPECT_EQ(ids("half-a"), ids("half-b")) << "two halves share one GPU";
  ask("whole", 1);
  ASSERT_EQ(ids("whole").size(), 1u);
  EXPECT_NE(ids("whole"), ids("half-a")) << "a whole GPU is one no fraction uses";
  ask("another", 1);
  EXPECT_FALSE(got.count("another")) << "GPU: 1 is free in sum (0 + 0) but no whole GPU is";
  EXPECT_EQ(gpus.QueueLength(), 1u);
  gpus.Return(got["whole"].lease_id(), 0);
  ASSERT_TRUE(got.count("another"));
  EXPECT_EQ(ids("another"), ids("whole")) << "the GPU given back goes to the waiting lease";
}

// Every name a committed bundle adds goes in the node's heartbeats, which
// the GCS takes within kMaxNodeResources names: past that, a bundle is
// refused here (its group waits or goes elsewhere) instead.
TEST_F(LeaseTest, ABundleThatWouldTakeTheNodePastItsResourceNamesIsRefused) {
  LeaseManager leases("self", {{"CPU", 1e6}}, &pool_);
  Bundles bundles(&leases);
  int committed = 0;
  absl::Status refused;
  for (; committed < kMaxNodeResources; ++committed) {
    std::string group = RandomId();
    refused = bundles.Prepare(group, 0, {{"CPU", 1}});
    if (!refused.ok()) break;
    ASSERT_TRUE(bundles.Commit(group, 0).ok());
  }
  EXPECT_NE(refused.message().find("resource names"), std::string::npos) << "it says why: " << refused;
  EXPECT_GT(committed, kMaxNodeResources / 5) << "four names a bundle";
  EXPECT_LE(leases.ResourceNames(), static_cast<size_t>(kMaxNodeResources));
  EXPECT_TRUE(CheckResources(leases.Available()).ok()) << "what its heartbeat reports is taken";
  EXPECT_DOUBLE_EQ(leases.Available().at("CPU"), 1e6 - committed) << "the refused bundle reserved nothing";
}

TEST_F(LeaseTest, WorkInABundleTakesTheGpuIdsTheBundleReserved) {
  LeaseManager gpus("self", {{"CPU", 8}, {"GPU", 2}}, &pool_, {"3", "7"});
  Bundles bundles(&gpus);
  std::vector<ResourceSet> shapes = {{{"GPU", 1}}, {{"GPU", 1}}};
  ASSERT_TRUE(bundles.Prepare("g1", 0, shapes[0]).ok());
  ASSERT_TRUE(bundles.Prepare("g1", 1, shapes[1]).ok());
  auto refused = bundles.Prepare("g2", 0, {{"GPU", 1}});
  EXPECT_FALSE(refused.ok()) << "both GPUs are reserved";
  EXPECT_NE(refused.message().find("free resources do not hold"), std::string::npos) << refused;
  ASSERT_TRUE(bundles.Commit("g1", 0).ok());
  ASSERT_TRUE(bundles.Commit("g1", 1).ok());
  std::map<std::string, proto::LeaseReply> got;
  auto ask = [&](const std::string& tag, ResourceSet demand) {
    proto::LeaseRequest r;
    *r.mutable_job() = Job("j1");
    for (auto& [k, v] : demand) (*r.mutable_resources())[k] = v;
    size_t spawned = spawner_.spawned.size();
    gpus.Request(r, [&got, tag](const proto::LeaseReply& reply) { got[tag] = reply; });
    if (spawner_.spawned.size() > spawned) RegisterLast(6200 + got.size());  // granted: a worker starts
  };
  auto in = [&](int index) { return *InBundle({{"GPU", 1}}, shapes, IdHex("g1"), index); };
  auto ids = [&](const std::string& tag) {
    return std::vector<std::string>(got[tag].gpu_ids().begin(), got[tag].gpu_ids().end());
  };
  ask("node", {{"GPU", 1}});
  EXPECT_FALSE(got.count("node")) << "the node's GPUs are all in bundles";
  ask("b0", in(0));
  ask("b1", in(1));
  ASSERT_EQ(ids("b0").size(), 1u);
  ASSERT_EQ(ids("b1").size(), 1u);
  EXPECT_NE(ids("b0"), ids("b1")) << "each bundle has a GPU of its own";
  ask("any", in(-1));
  EXPECT_FALSE(got.count("any")) << "both bundles' GPUs are in use";
  gpus.Return(got["b1"].lease_id(), 0);
  ASSERT_TRUE(got.count("any"));
  EXPECT_EQ(ids("any"), ids("b1")) << "the bundle's GPU, given back, goes to work in any bundle";
  // Returning bundle 0 ends its lease and gives its GPU back to the node.
  size_t spawned = spawner_.spawned.size();
  bundles.Return("g1", 0);
  ASSERT_EQ(spawner_.spawned.size(), spawned + 1) << "the waiting node-wide request is granted";
  RegisterLast(6299);
  ASSERT_TRUE(got.count("node"));
  EXPECT_EQ(ids("node"), ids("b0"));
}

}  // namespace
}  // namespace glint::raylet

namespace glint::raylet {
namespace {

TEST_F(LeaseTest, ARequestWaitingForSomethingBusyHoldsUpNoOtherShape) {
  LeaseManager leases("self", {{"CPU", 2}, {"X", 1}}, &pool_);
  std::map<std::string, proto::LeaseReply> got;
  auto ask = [&](const std::string& tag, ResourceSet r) {
    proto::LeaseRequest req;
    *req.mutable_job() = Job("j1");
    for (auto& [k, v] : r) (*req.mutable_resources())[k] = v;
    leases.Request(req, [&got, tag](const proto::LeaseReply& reply) { got[tag] = reply; });
  };
  ask("x", {{"X", 1}});
  RegisterLast(6101);
  ask("x-again", {{"X", 1}});
  EXPECT_EQ(leases.QueueLength(), 1u) << "X is busy";
  ask("cpu", {{"CPU", 1}});
  EXPECT_EQ(leases.QueueLength(), 1u) << "a CPU request does not queue behind the X one";
  RegisterLast(6102);
  ASSERT_TRUE(got["cpu"].has_worker());
  ask("cpu-2", {{"CPU", 2}});
  EXPECT_EQ(leases.QueueLength(), 2u) << "one CPU is taken";
  ask("cpu-1", {{"CPU", 1}});
  EXPECT_EQ(leases.QueueLength(), 2u) << "the free CPU serves a 1-CPU request at once";
  RegisterLast(6103);
  ASSERT_TRUE(got["cpu-1"].has_worker());
  // Both CPUs back: the 2-CPU request behind the waiting X one is granted.
  leases.Return(got["cpu"].lease_id(), 0);
  leases.Return(got["cpu-1"].lease_id(), 0);
  ASSERT_TRUE(got["cpu-2"].has_worker());
  EXPECT_FALSE(got.count("x-again"));
  leases.Return(got["x"].lease_id(), 0);
  EXPECT_TRUE(got["x-again"].has_worker());
}

}  // namespace
}  // namespace glint::raylet

namespace glint::raylet {
namespace {

TEST_F(LeaseTest, PendingDemandGroupsQueuedRequestsByShapeAndSaysWhoHoldsWhatTheyWaitFor) {
  EXPECT_TRUE(leases_.PendingDemand(0).empty());
  proto::LeaseRequest actor = Req(2);
  actor.set_for_actor(true);
  Ask("actor", actor);
  RegisterLast(6001);
  ASSERT_TRUE(replies_["actor"].has_worker());
  Ask("t1", Req(1));
  Ask("t2", Req(1));
  proto::LeaseRequest second = Req(1);
  second.set_for_actor(true);
  Ask("a2", second);
  Ask("big", Req(2));
  auto pending = leases_.PendingDemand(NowMs() + 5000);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].shape().at("CPU"), 1);
  EXPECT_EQ(pending[0].tasks(), 2);
  EXPECT_EQ(pending[0].actors(), 1);
  EXPECT_GE(pending[0].waiting_ms(), 5000);
  EXPECT_EQ(pending[0].held_by(), "1 actor and 0 tasks hold {CPU: 2} of {CPU: 2}");
  EXPECT_EQ(pending[1].shape().at("CPU"), 2);
  EXPECT_EQ(pending[1].tasks(), 1);
  EXPECT_EQ(pending[1].actors(), 0);
}

TEST_F(LeaseTest, PendingDemandSaysWhenNoLeaseHoldsWhatARequestWaitsFor) {
  std::vector<std::string> ids;
  ASSERT_TRUE(leases_.Reserve({{"CPU", 2}}, &ids));  // a placement group's bundle
  Ask("t", Req(1));
  auto pending = leases_.PendingDemand(NowMs());
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_NE(pending[0].held_by().find("no lease holds them"), std::string::npos) << pending[0].held_by();
}

}  // namespace
}  // namespace glint::raylet
