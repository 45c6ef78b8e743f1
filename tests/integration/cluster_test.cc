// Integration tests across nodes, of the CLI, and of bad input to daemons.
#include <glint/api.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <future>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/limits.h"
#include "common/rpc.h"
#include "integration/test_functions.h"
#include "testing/test_cluster.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::DirBytes;

std::string Raylet() { return getenv("GLINT_RAYLET_ADDRESS"); }
int Plus(int a, int b) { return a + b; }

class Where {
 public:
  static Where* Create() { return new Where(); }
  std::string Raylet() const { return getenv("GLINT_RAYLET_ADDRESS"); }
};

// Writes its raylet's address to `dir`/started-`id`, then waits for
// `dir`/go; returns its raylet.
std::string StartThenWait(std::string dir, int id) {
  std::string raylet = Raylet();
  tf::WriteFile(dir + "/started-" + std::to_string(id), raylet);
  tf::WaitForFile(dir + "/go");
  return raylet;
}

GLINT_REMOTE(Raylet, Plus, StartThenWait, Where::Create, &Where::Raylet);

class TwoNodeTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(1);
    node2_ = cluster_->AddNode(2, R"({"special": 1})");
  }
  static std::string node2_;
};
std::string TwoNodeTest::node2_;

TEST_F(TwoNodeTest, TasksNeedingTheSecondNodesResourcesRunThere) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(glint::Task(Raylet).SetResources({{"special", 1}}).Remote().Get(), node2_);
  }
  // More CPUs than the head has: spilled back to the node whose totals fit.
  EXPECT_EQ(glint::Task(Raylet).SetResources({{"CPU", 2}}).Remote().Get(), node2_);
  EXPECT_EQ(glint::Task(Raylet).Remote().Get(), cluster_->head_raylet_address())
      << "work that fits locally stays on the driver's node";
}

TEST_F(TwoNodeTest, ActorsLandOnTheNodeWithTheirResources) {
  auto a = glint::Actor(Where::Create).SetResources({{"special", 1}}).Remote();
  EXPECT_EQ(a.Task(&Where::Raylet).Remote().Get(), node2_);
  auto b = glint::Actor(Where::Create).Remote();
  EXPECT_FALSE(b.Task(&Where::Raylet).Remote().Get().empty());
}

TEST_F(TwoNodeTest, StatusShowsBothNodes) {
  int status = 0;
  std::string out =
      glint::testing::RunCommand(std::string(GLINT_CLI_PATH) + " status --address " + cluster_->gcs_address(), &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find(cluster_->head_raylet_address()), std::string::npos) << out;
  EXPECT_NE(out.find(node2_), std::string::npos) << out;
  EXPECT_NE(out.find("special: 1"), std::string::npos) << out;
}

TEST_F(TwoNodeTest, StatusAndListsAsJsonHoldWhatTheClusterHas) {
  auto a = glint::Actor(Where::Create).SetName("json-shown").SetResources({{"special", 1}}).Remote();
  ASSERT_EQ(a.Task(&Where::Raylet).Remote().Get(), node2_);
  auto run = [&](const std::string& args) {
    int status = 0;
    std::string out = glint::testing::RunCommand(
        std::string(GLINT_CLI_PATH) + " " + args + " --json --address " + cluster_->gcs_address(), &status);
    EXPECT_EQ(status, 0) << args << ": " << out;
    return nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  };
  auto actors = run("list actors");
  ASSERT_TRUE(actors.is_array()) << actors;
  bool shown = false;
  for (auto& actor : actors) {
    if (actor.value("name", "") != "json-shown") continue;
    shown = true;
    EXPECT_EQ(actor.value("state", ""), "ALIVE") << actor;
    EXPECT_GT(actor.value("pid", 0), 0) << actor;
  }
  EXPECT_TRUE(shown) << actors;
  auto status = run("status");
  ASSERT_TRUE(status.is_object()) << status;
  EXPECT_EQ(status.value("address", ""), cluster_->gcs_address());
  ASSERT_TRUE(status["nodes"].is_array());
  EXPECT_EQ(status["nodes"].size(), 2u);
  std::set<std::string> addresses;
  for (auto& n : status["nodes"]) {
    addresses.insert(n["address"].value("ip", "") + ":" + std::to_string(n["address"].value("port", 0)));
  }
  EXPECT_EQ(addresses, (std::set<std::string>{cluster_->head_raylet_address(), node2_}));
  EXPECT_TRUE(status["jobs"].is_array() && !status["jobs"].empty());
}

// Sends raw bytes to `method` at `target`; returns the status.
grpc::Status RawCall(const std::string& target, const std::string& method, const std::string& bytes) {
  grpc::GenericStub stub(glint::ChannelPool::Default().Get(target));
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 5000);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer req(&slice, 1), reply;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &reply,
                 [&done](grpc::Status s) { done.set_value(s); });
  return done.get_future().get();
}

TEST_F(TwoNodeTest, OversizedMessagesAreRefusedAndTheDaemonsStaySmall) {
  const std::string big(24 << 20, 'x');     // past what a control message may be
  const std::string huge(600 << 20, 'x');   // past what a daemon may hold at once
  int64_t gcs_before = glint::testing::RssOf(cluster_->gcs_pid());
  int64_t raylet_before = glint::testing::RssOf(cluster_->head_raylet_pid());
  glint::testing::PeakRss gcs_peak(cluster_->gcs_pid()), raylet_peak(cluster_->head_raylet_pid());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(RawCall(cluster_->gcs_address(), "/glint.proto.GcsService/RegisterJob", big).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(RawCall(cluster_->head_raylet_address(), "/glint.proto.RayletService/CreateObject", big).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // Past the transport's memory quota the server may cut the connection
  // instead of answering, and on a loaded machine the client may not even
  // get 600 MiB out before its deadline: not accepted either way (that the
  // daemon held none of it is checked below, and that it still serves).
  auto refused = [](grpc::StatusCode c) {
    return c == grpc::StatusCode::RESOURCE_EXHAUSTED || c == grpc::StatusCode::UNAVAILABLE ||
           c == grpc::StatusCode::DEADLINE_EXCEEDED;
  };
  EXPECT_PRED1(refused, RawCall(cluster_->gcs_address(), "/glint.proto.GcsService/RegisterJob", huge).error_code());
  EXPECT_PRED1(refused,
               RawCall(cluster_->head_raylet_address(), "/glint.proto.RayletService/CreateObject", huge).error_code());
  int64_t gcs_grew = gcs_peak.Stop() - gcs_before, raylet_grew = raylet_peak.Stop() - raylet_before;
#ifndef GLINT_SANITIZER
  // A message is not held whole: the daemons' transports are bounded (64 and
  // 128 MiB; gRPC frees past its quota asynchronously, so a loaded machine
  // overshoots it, but never to the 600 MiB sent).
  EXPECT_LT(gcs_grew, 300 << 20);
  EXPECT_LT(raylet_grew, 350 << 20);
#else
  // AddressSanitizer keeps freed memory in quarantine, so resident memory says nothing here.
  (void)gcs_grew, (void)raylet_grew;
#endif
  // And they still serve.
  EXPECT_EQ(glint::Task(Plus).Remote(1, 2).Get(), 3);
}

TEST_F(TwoNodeTest, MalformedRequestsGetErrorsAndDaemonsStayUp) {
  const std::string gcs = cluster_->gcs_address();
  const std::string raylet = cluster_->head_raylet_address();
  auto actor = glint::Actor(Where::Create).Remote();
  ASSERT_FALSE(actor.Task(&Where::Raylet).Remote().Get().empty());
  // The actor's worker address, from the GCS.
  auto gcs_stub = glint::MakeStub<glint::proto::GcsService>(gcs);
  glint::proto::GetActorRequest gar;
  gar.set_actor_id(actor.ID());
  glint::proto::GetActorReply info;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs_stub->GetActor(&ctx, gar, &info).ok());
  }
  const std::string worker = glint::AddrString(info.actor().address());

  const std::string garbage = "\xff\xff\xff\xff\x0f not a protobuf \x80\x80";
  glint::proto::CreateActorRequest valid;
  valid.set_name(std::string(200, 'n'));
  valid.mutable_creation_task()->set_function_name(std::string(200, 'f'));
  std::string truncated = valid.SerializeAsString().substr(0, 150);
  for (const auto& [target, method] : std::vector<std::pair<std::string, std::string>>{
           {gcs, "/glint.proto.GcsService/CreateActor"},
           {gcs, "/glint.proto.GcsService/RegisterNode"},
           {raylet, "/glint.proto.RayletService/RequestWorkerLease"},
           {raylet, "/glint.proto.RayletService/RequestWorkerLeases"},
           {raylet, "/glint.proto.RayletService/RegisterWorker"},
           {worker, "/glint.proto.WorkerService/PushTask"},
           {worker, "/glint.proto.WorkerService/PushTasks"}}) {
    EXPECT_FALSE(RawCall(target, method, garbage).ok()) << method;
    EXPECT_FALSE(RawCall(target, method, truncated).ok()) << method << " (truncated)";
  }
  // Well-formed but meaningless requests get clear errors too.
  {
    grpc::ClientContext ctx;
    glint::proto::RegisterNodeReply r;
    auto s = gcs_stub->RegisterNode(&ctx, glint::proto::RegisterNodeRequest(), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    // Only the raylet that registered a node speaks for it: a heartbeat or
    // a registration with the head's id but not its secret changes nothing.
    grpc::ClientContext c1;
    glint::proto::GetAllNodesReply nodes;
    ASSERT_TRUE(gcs_stub->GetAllNodes(&c1, {}, &nodes).ok());
    const glint::proto::NodeInfo* head = nullptr;
    for (auto& n : nodes.nodes()) {
      if (n.is_head()) head = &n;
    }
    ASSERT_NE(head, nullptr);
    grpc::ClientContext c2;
    glint::proto::HeartbeatRequest beat;
    beat.set_node_id(head->node_id());
    beat.set_node_secret("not the head's secret");
    (*beat.mutable_available_resources())["CPU"] = 1000;
    glint::proto::HeartbeatReply br;
    EXPECT_EQ(gcs_stub->Heartbeat(&c2, beat, &br).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    grpc::ClientContext c3;
    glint::proto::RegisterNodeRequest reg;
    *reg.mutable_node() = *head;
    reg.mutable_node()->mutable_address()->set_port(1);
    reg.set_node_secret("not the head's secret");
    glint::proto::RegisterNodeReply rr;
    EXPECT_EQ(gcs_stub->RegisterNode(&c3, reg, &rr).error_code(), grpc::StatusCode::ALREADY_EXISTS);
    grpc::ClientContext c4;
    glint::proto::GetAllNodesReply after;
    ASSERT_TRUE(gcs_stub->GetAllNodes(&c4, {}, &after).ok());
    for (auto& n : after.nodes()) {
      if (n.node_id() != head->node_id()) continue;
      EXPECT_EQ(n.address().port(), head->address().port());
      EXPECT_LT(n.available_resources().at("CPU"), 1000);
    }
  }
  {
    grpc::ClientContext ctx;
    glint::proto::CreateActorReply r;
    auto s = gcs_stub->CreateActor(&ctx, glint::proto::CreateActorRequest(), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    glint::proto::KillActorReply r;
    glint::proto::KillActorRequest kr;
    kr.set_actor_id("no such actor");
    EXPECT_EQ(gcs_stub->KillActor(&ctx, kr, &r).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    auto rs = glint::MakeStub<glint::proto::RayletService>(raylet);
    grpc::ClientContext ctx;
    glint::proto::LeaseReply r;
    EXPECT_EQ(rs->RequestWorkerLease(&ctx, glint::proto::LeaseRequest(), &r).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    {
      grpc::ClientContext c;
      glint::proto::LeaseRequest rooted;
      rooted.mutable_job()->set_job_id(std::string(16, 'j'));
      rooted.set_root_detached_actor(std::string(4096, 'r'));  // no id is that long
      auto st = rs->RequestWorkerLease(&c, rooted, &r);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_NE(st.error_message().find("the root detached actor"), std::string::npos) << st.error_message();
    }
    grpc::ClientContext ctx2;
    glint::proto::RegisterWorkerReply rr;
    glint::proto::RegisterWorkerRequest reg;
    reg.set_worker_id("impostor");
    EXPECT_EQ(rs->RegisterWorker(&ctx2, reg, &rr).error_code(), grpc::StatusCode::NOT_FOUND);    // What a raylet would keep, or allocate, for a request is bounded: a
    // size past the integers (it once wrapped the store's accounting), a
    // chunk as large as an object, ids and addresses of any length.
    grpc::ClientContext ctx3;
    glint::proto::CreateObjectRequest create;
    create.set_object_id(std::string(16, 'o'));
    create.set_size(std::numeric_limits<int64_t>::max());
    glint::proto::CreateObjectReply cr;
    EXPECT_EQ(rs->CreateObject(&ctx3, create, &cr).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    grpc::ClientContext ctx4;
    create.set_size(0);
    create.set_owner(std::string(1 << 20, 'h'));
    EXPECT_EQ(rs->CreateObject(&ctx4, create, &cr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    grpc::ClientContext ctx5;
    glint::proto::ReadObjectChunkRequest chunk;
    chunk.set_object_id(std::string(16, 'o'));
    chunk.set_length(int64_t{1} << 40);
    glint::proto::ReadObjectChunkReply chr;
    EXPECT_EQ(rs->ReadObjectChunk(&ctx5, chunk, &chr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    grpc::ClientContext ctx6;
    glint::proto::JobFinishedRequest finished;
    finished.set_job_id(std::string(1 << 20, 'j'));
    glint::proto::JobFinishedReply fr;
    EXPECT_EQ(rs->JobFinished(&ctx6, finished, &fr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    grpc::ClientContext ctx7;
    glint::proto::GetStoreInfoReply info;
    ASSERT_TRUE(rs->GetStoreInfo(&ctx7, {}, &info).ok());
    EXPECT_GE(info.info().spilled_bytes(), 0);
    EXPECT_GE(info.info().used(), 0);
    EXPECT_LE(info.info().used(), info.info().capacity());
    // Bundle steps: all checked before any is done, then done in order. The
    // head's one CPU must be free first: an earlier test's task may hold it
    // a moment longer (its idle lease goes back after 200 ms).
    ASSERT_TRUE(glint::testing::WaitUntil(
        [] { return HeadMetric("glint_node_resources_available{", "resource=\"CPU\"") == 1; }))
        << "the head's CPU stays taken";
    auto step = [](glint::proto::BundleStep::Kind kind, const std::string& group, double cpus, bool commit = false) {
      glint::proto::BundleStep s;
      s.set_kind(kind);
      s.mutable_bundle()->set_group_id(group);
      if (cpus > 0) (*s.mutable_bundle()->mutable_resources())["CPU"] = cpus;
      s.mutable_bundle()->set_commit(commit);
      return s;
    };
    using Step = glint::proto::BundleStep;
    const std::string group(16, 'p');
    auto steps = [&](std::vector<Step> list, glint::proto::BundleStepsReply* reply) {
      glint::proto::BundleStepsRequest req;
      for (auto& s : list) *req.add_steps() = s;
      grpc::ClientContext c;
      return rs->BundleSteps(&c, req, reply).error_code();
    };
    glint::proto::BundleStepsReply br;
    EXPECT_EQ(steps({step(Step::PREPARE, group, 0.5), step(static_cast<Step::Kind>(7), group, 0)}, &br),
              grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(steps({step(Step::PREPARE, group, 0.5), step(Step::PREPARE, group, 0)}, &br),
              grpc::StatusCode::INVALID_ARGUMENT) << "a Prepare without resources";
    EXPECT_EQ(steps(std::vector<Step>(glint::kMaxBundleSteps + 1, step(Step::RETURN, group, 0)), &br),
              grpc::StatusCode::INVALID_ARGUMENT);
    ASSERT_EQ(steps({step(Step::COMMIT, group, 0)}, &br), grpc::StatusCode::OK);
    EXPECT_FALSE(br.ok(0)) << "the refused calls reserved nothing";
    ASSERT_EQ(steps({step(Step::PREPARE, group, 0.5), step(Step::COMMIT, group, 0), step(Step::RETURN, group, 0),
                     step(Step::COMMIT, group, 0), step(Step::PREPARE, group, 1e6, true)},
                    &br),
              grpc::StatusCode::OK);
    EXPECT_EQ(std::vector<bool>(br.ok().begin(), br.ok().end()), (std::vector<bool>{true, true, true, false, false}))
        << "reserved, committed, returned, so no longer there to commit; more CPUs than the node has refused";
    // A refused step says why (the GCS shows it as the group's pending reason).
    ASSERT_EQ(br.why_size(), 5);
    EXPECT_EQ(br.why(0), "");
    EXPECT_NE(br.why(3).find("no such bundle"), std::string::npos) << br.why(3);
    EXPECT_NE(br.why(4).find("free resources do not hold"), std::string::npos) << br.why(4);
  }
  {
    auto ws = glint::MakeStub<glint::proto::WorkerService>(worker);
    grpc::ClientContext ctx;
    glint::proto::PushTaskRequest push;
    push.mutable_task()->set_task_id("t");
    push.mutable_task()->set_function_name("NoSuchFunction");
    push.mutable_task()->set_type(glint::proto::NORMAL_TASK);
    glint::proto::PushTaskReply r;
    ASSERT_TRUE(ws->PushTask(&ctx, push, &r).ok());
    EXPECT_EQ(r.result().error().type(), glint::proto::FUNCTION_NOT_FOUND);
    // A name longer than any registered one is refused before it is looked
    // up or printed as the worker's output label (the fuzzer's find: a
    // 250 KB line in the worker's log per such call).
    const std::string logs = cluster_->session_dir() + "/logs";
    int64_t logs_before = DirBytes(logs);
    for (auto type : {glint::proto::NORMAL_TASK, glint::proto::ACTOR_CREATION_TASK}) {
      grpc::ClientContext c;
      glint::proto::PushTaskRequest long_name;
      long_name.mutable_task()->set_task_id("l");
      long_name.mutable_task()->set_function_name(std::string(1 << 20, 'x'));
      long_name.mutable_task()->set_type(type);
      glint::proto::PushTaskReply lr;
      ASSERT_TRUE(ws->PushTask(&c, long_name, &lr).ok());
      EXPECT_NE(lr.result().error().message().find("function name is empty or longer than"), std::string::npos)
          << lr.result().error().message().substr(0, 200);
    }
    EXPECT_LT(DirBytes(logs) - logs_before, 64 << 10) << "the worker's log took the name in";
    // An argument whose owner is no HOST:PORT is refused before anyone is
    // called there (gRPC logged each such target, up to 64 KiB a line).
    grpc::ClientContext ctx_junk;
    glint::proto::PushTaskRequest junk;
    junk.mutable_task()->set_task_id("j");
    junk.mutable_task()->set_function_name("&Where::Raylet");
    junk.mutable_task()->set_type(glint::proto::NORMAL_TASK);
    auto* ref = junk.mutable_task()->add_args()->mutable_ref();
    ref->set_object_id(std::string(16, 'r'));
    ref->mutable_owner()->set_ip(std::string(1 << 16, '%'));
    ref->mutable_owner()->set_port(1);
    glint::proto::PushTaskReply jr;
    ASSERT_TRUE(ws->PushTask(&ctx_junk, junk, &jr).ok());
    EXPECT_NE(jr.result().error().message().find("an argument's owner"), std::string::npos)
        << jr.result().error().message();
    // A second creation task for the actor this worker hosts (the fuzzer's
    // find: one asking for 2^31 threads ended the worker) is refused, and
    // the actor lives on.
    for (int threads : {4, 1 << 30}) {
      grpc::ClientContext c;
      glint::proto::PushTaskRequest create;
      create.mutable_task()->set_task_id("c");
      create.mutable_task()->set_function_name("Where::Create");
      create.mutable_task()->set_type(glint::proto::ACTOR_CREATION_TASK);
      create.mutable_task()->set_max_concurrency(threads);
      (*create.mutable_task()->mutable_concurrency_groups())["g"] = threads;
      glint::proto::PushTaskReply cr;
      ASSERT_TRUE(ws->PushTask(&c, create, &cr).ok());
      EXPECT_EQ(cr.result().error().message(), "this worker hosts an actor already");
    }
    EXPECT_FALSE(actor.Task(&Where::Raylet).Remote().Get().empty());
    grpc::ClientContext ctx2;
    glint::proto::GetObjectRequest g;
    g.set_object_id("unknown");
    glint::proto::GetObjectReply gr;
    ASSERT_TRUE(ws->GetObject(&ctx2, g, &gr).ok());
    EXPECT_TRUE(gr.unknown());
  }
  {
    // A call stream: each call is answered on its own, a malformed one with
    // an error, and the stream ends cleanly when the caller closes it.
    auto ws = glint::MakeStub<glint::proto::WorkerService>(worker);
    grpc::ClientContext ctx;
    glint::SetDeadlineMs(&ctx, 30000);
    auto stream = ws->PushTasks(&ctx);
    glint::proto::PushTaskBatch batch;
    batch.add_tasks()->set_type(glint::proto::ACTOR_TASK);  // no id, no function
    auto* t = batch.add_tasks();
    t->set_type(glint::proto::ACTOR_TASK);
    t->set_task_id("t2");
    t->set_function_name("NoSuchMethod");
    t->set_actor_id(actor.ID());
    t->set_caller_id("a caller of its own");
    ASSERT_TRUE(stream->Write(batch));
    ASSERT_TRUE(stream->WritesDone());
    std::map<std::string, glint::proto::ErrorType> got;
    glint::proto::PushTaskReplyBatch replies;
    for (int i = 0; i < 2 && stream->Read(&replies); ++i) {
      for (auto& r : replies.replies()) got[r.task_id()] = r.result().error().type();
    }
    EXPECT_EQ(got, (std::map<std::string, glint::proto::ErrorType>{{"", glint::proto::SYSTEM_ERROR},
                                                                   {"t2", glint::proto::FUNCTION_NOT_FOUND}}));
    EXPECT_TRUE(stream->Finish().ok());
  }
  {
    // Calls ahead of earlier ones that never come wait, but only so many
    // (10,000 on a worker): past that, and for a number held already, they
    // are refused at once (the fuzzer's find: they were held without bound).
    auto ws = glint::MakeStub<glint::proto::WorkerService>(worker);
    grpc::ClientContext ctx;
    glint::SetDeadlineMs(&ctx, 60000);
    auto stream = ws->PushTasks(&ctx);
    auto call = [&](glint::proto::PushTaskBatch* b, const std::string& id, int64_t seq) {
      auto* t = b->add_tasks();
      t->set_type(glint::proto::ACTOR_TASK);
      t->set_task_id(id);
      t->set_function_name("&Where::Raylet");
      t->set_actor_id(actor.ID());
      t->set_caller_id("a caller whose first call never comes");
      t->set_sequence_number(seq);
    };
    // A little past the bound (another caller's call may be held a moment).
    constexpr int kLast = 10050;
    for (int from = 1; from <= kLast; from += 1000) {
      glint::proto::PushTaskBatch b;
      for (int seq = from; seq < from + 1000 && seq <= kLast; ++seq) call(&b, "e" + std::to_string(seq), seq);
      ASSERT_TRUE(stream->Write(b));
    }
    glint::proto::PushTaskBatch again;
    call(&again, "again", 5);
    ASSERT_TRUE(stream->Write(again));
    std::map<std::string, std::string> refused;  // task id -> error message ("" if it ran)
    glint::proto::PushTaskReplyBatch replies;
    // Batches are admitted as they are read, and two may be admitted in
    // either order (the last one before the one ahead of it, say): which
    // calls pass the bound may vary, how many may not. Read until 50 and
    // "again" are refused, or the stream's deadline.
    auto all_in = [&] { return refused.count("again") && refused.size() >= 51; };
    for (int batches = 0; batches < 1000 && !all_in() && stream->Read(&replies); ++batches) {
      for (auto& r : replies.replies()) refused[r.task_id()] = r.result().error().message();
    }
    std::string all;
    for (auto& [id, why] : refused) all += "\n  " + id + ": " + why;
    ASSERT_TRUE(refused.count("again")) << all;
    EXPECT_GE(refused.size(), 51u) << "the calls past the bound are refused at once" << all;
    EXPECT_LE(refused.size(), 61u) << "only the calls past the bound (another caller's may hold a few places)" << all;
    for (auto& [id, why] : refused) {
      EXPECT_NE(why.find("holds no more such calls"), std::string::npos) << id << ": " << why;
      if (id != "again") {
        EXPECT_GT(std::stoi(id.substr(1)), 9000) << "calls of the last two batches" << all;
      }
    }
    ctx.TryCancel();
    EXPECT_FALSE(actor.Task(&Where::Raylet).Remote().Get().empty()) << "the actor still answers its own caller";
  }
  {
    // A driver runs no tasks, by either method.
    glint::proto::GetAllJobsReply jobs;
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs_stub->GetAllJobs(&ctx, glint::proto::GetAllJobsRequest(), &jobs).ok());
    std::string driver;
    for (auto& j : jobs.jobs()) {
      if (!j.finished() && j.driver_pid() == getpid()) driver = glint::AddrString(j.driver());
    }
    ASSERT_FALSE(driver.empty());
    auto ds = glint::MakeStub<glint::proto::WorkerService>(driver);
    grpc::ClientContext c1;
    glint::proto::PushTaskReply r;
    EXPECT_EQ(ds->PushTask(&c1, glint::proto::PushTaskRequest(), &r).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    grpc::ClientContext c2;
    glint::SetDeadlineMs(&c2, 30000);
    auto stream = ds->PushTasks(&c2);
    glint::proto::PushTaskReplyBatch replies;
    EXPECT_FALSE(stream->Read(&replies));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  // Everyone is still up and working.
  EXPECT_EQ(glint::Task(Plus).Remote(1, 1).Get(), 2);
  EXPECT_FALSE(actor.Task(&Where::Raylet).Remote().Get().empty()) << "the actor's worker survived";
}

// Two 2-CPU nodes of their own.
class SpillTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2);
    node2_ = cluster_->AddNode(2, R"({"second": 2})");
  }
  static std::string node2_;
};
std::string SpillTest::node2_;

TEST_F(SpillTest, QueuedTasksMoveToANodeThatFreesUp) {
  std::string busy = glint::testing::TempDir(), work = glint::testing::TempDir();
  // The second node is busy...
  std::vector<glint::ObjectRef<std::string>> blockers;
  for (int i = 0; i < 2; ++i) {
    blockers.push_back(glint::Task(StartThenWait).SetResources({{"CPU", 1}, {"second", 1}}).Remote(busy, i));
  }
  auto started = [](const std::string& dir, int n) {
    for (int i = 0; i < n; ++i) {
      if (!glint::testing::FileExists(dir + "/started-" + std::to_string(i))) return false;
    }
    return true;
  };
  ASSERT_TRUE(glint::testing::WaitUntil([&] { return started(busy, 2); }));
  // ...and the cluster knows it.
  auto gcs = glint::MakeStub<glint::proto::GcsService>(cluster_->gcs_address());
  ASSERT_TRUE(glint::testing::WaitUntil([&] {
    grpc::ClientContext ctx;
    glint::proto::GetAllNodesReply nodes;
    if (!gcs->GetAllNodes(&ctx, {}, &nodes).ok()) return false;
    for (auto& n : nodes.nodes()) {
      if (n.alive() && n.total_resources().count("second") && n.available_resources().at("CPU") == 0) return true;
    }
    return false;
  }));
  // Four tasks now: two fit on the head, two wait. When the second node frees
  // up, the waiting ones go there while the head's two still run.
  std::vector<glint::ObjectRef<std::string>> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(glint::Task(StartThenWait).Remote(work, i));
  ASSERT_TRUE(glint::testing::WaitUntil([&] {
    int n = 0;
    for (int i = 0; i < 4; ++i) n += glint::testing::FileExists(work + "/started-" + std::to_string(i));
    return n >= 2;
  }));
  glint::testing::Touch(busy + "/go");
  for (auto& b : blockers) EXPECT_EQ(b.Get(std::chrono::seconds(60)), node2_);
  EXPECT_TRUE(glint::testing::WaitUntil([&] { return started(work, 4); }))
      << "the waiting tasks should run on the node that freed up, beside the head's";
  int on_second = 0;
  for (int i = 0; i < 4; ++i) {
    on_second += glint::testing::ReadFile(work + "/started-" + std::to_string(i)) == node2_;
  }
  EXPECT_EQ(on_second, 2);
  glint::testing::Touch(work + "/go");
  for (auto& t : tasks) EXPECT_FALSE(t.Get(std::chrono::seconds(60)).empty());
}

}  // namespace
