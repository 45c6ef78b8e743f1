// Cluster authentication: every daemon, worker and driver refuses calls
// without the cluster token (or with a wrong one) before doing anything;
// the token is found by drivers and the CLI on this machine, printed by
// `glint get-auth-token`, and can be turned off at `glint start`.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/launcher.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"
#include "testing/bearer.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::FileExists;
using glint::testing::RunCommand;
using glint::testing::TempDir;
using glint::testing::TestCluster;

class Keeper {
 public:
  static Keeper* Create() { return new Keeper(); }
  int Pid() const { return getpid(); }
};

GLINT_REMOTE(Keeper::Create, &Keeper::Pid);

// A client's credentials, as a stranger would make them: none, or a token.
enum class Stranger { kPlaintext, kNoToken, kWrongToken };

std::shared_ptr<grpc::Channel> StrangerChannel(const std::string& target, Stranger who) {
  switch (who) {
    case Stranger::kPlaintext:
      return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    case Stranger::kNoToken:
      return grpc::CreateChannel(target, grpc::experimental::LocalCredentials(LOCAL_TCP));
    case Stranger::kWrongToken:
      return grpc::CreateChannel(
          target, grpc::CompositeChannelCredentials(grpc::experimental::LocalCredentials(LOCAL_TCP),
                                                    glint::testing::BearerCredentials(glint::NewAuthToken())));
  }
  return nullptr;
}

const char* Name(Stranger who) {
  return who == Stranger::kPlaintext ? "plaintext" : who == Stranger::kNoToken ? "no token" : "wrong token";
}

template <typename Stub, typename Req, typename Reply>
grpc::Status Call(Stub* stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Reply*),
                  const Req& req) {
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 10000);
  Reply reply;
  return (stub->*method)(&ctx, req, &reply);
}

class AuthTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
};

TEST_F(AuthTest, EveryServerRefusesCallsWithoutTheRightTokenAndDoesNothing) {
  auto keeper = glint::Actor(Keeper::Create).Remote();
  ASSERT_GT(keeper.Task(&Keeper::Pid).Remote().Get(), 0);
  // Where everything is, asked with the token (this driver has it).
  auto gcs = glint::MakeStub<glint::proto::GcsService>(cluster_->gcs_address());
  glint::proto::GetActorRequest gar;
  gar.set_actor_id(keeper.ID());
  glint::proto::GetActorReply actor;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs->GetActor(&ctx, gar, &actor).ok());
  }
  glint::proto::GetAllJobsReply jobs;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs->GetAllJobs(&ctx, {}, &jobs).ok());
  }
  const std::string worker = glint::AddrString(actor.actor().address());
  std::string driver;
  for (auto& j : jobs.jobs()) {
    if (j.driver_pid() == getpid()) driver = glint::AddrString(j.driver());
  }
  ASSERT_FALSE(driver.empty());
  const std::string marker = TempDir() + "/ran";
  const std::string script = TempDir() + "/attack.sh";
  std::ofstream(script) << "#!/bin/sh\ntouch " << marker << "\n";
  chmod(script.c_str(), 0755);

  for (Stranger who : {Stranger::kPlaintext, Stranger::kNoToken, Stranger::kWrongToken}) {
    SCOPED_TRACE(Name(who));
    auto g = glint::proto::GcsService::NewStub(StrangerChannel(cluster_->gcs_address(), who));
    auto r = glint::proto::RayletService::NewStub(StrangerChannel(cluster_->head_raylet_address(), who));
    auto w = glint::proto::WorkerService::NewStub(StrangerChannel(worker, who));
    auto d = glint::proto::WorkerService::NewStub(StrangerChannel(driver, who));
    EXPECT_EQ(Call(g.get(), &glint::proto::GcsService::Stub::GetAllNodes, glint::proto::GetAllNodesRequest())
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    glint::proto::RegisterJobRequest job;
    job.mutable_job()->mutable_code()->add_paths(script);
    EXPECT_EQ(Call(g.get(), &glint::proto::GcsService::Stub::RegisterJob, job).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    glint::proto::KillActorRequest kill;
    kill.set_actor_id(keeper.ID());
    EXPECT_EQ(Call(g.get(), &glint::proto::GcsService::Stub::KillActor, kill).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    // The attack of a lease naming a foreign program as the job's code.
    glint::proto::LeaseRequest lease;
    lease.mutable_job()->set_job_id(std::string(16, 'j'));
    lease.mutable_job()->mutable_code()->add_paths(script);
    (*lease.mutable_resources())["CPU"] = 1;
    EXPECT_EQ(Call(r.get(), &glint::proto::RayletService::Stub::RequestWorkerLease, lease).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(Call(r.get(), &glint::proto::RayletService::Stub::GetStoreInfo, glint::proto::GetStoreInfoRequest())
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    glint::proto::PushTaskRequest push;
    push.mutable_task()->set_task_id("t");
    push.mutable_task()->set_function_name("&Keeper::Pid");
    push.mutable_task()->set_type(glint::proto::ACTOR_TASK);
    EXPECT_EQ(Call(w.get(), &glint::proto::WorkerService::Stub::PushTask, push).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(Call(d.get(), &glint::proto::WorkerService::Stub::GetObject, glint::proto::GetObjectRequest())
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // Nothing happened: the actor lives, no job came, the script never ran.
  EXPECT_GT(keeper.Task(&Keeper::Pid).Remote().Get(), 0);
  glint::proto::GetAllJobsReply after;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs->GetAllJobs(&ctx, {}, &after).ok());
  }
  EXPECT_EQ(after.jobs_size(), jobs.jobs_size());
  EXPECT_FALSE(FileExists(marker));
}

// A lease that names a program other than its job's registered code (asked
// with the token: an authenticated client) still gets a worker of the job's
// own code; an unknown job gets none; code that is no executable is refused.
TEST_F(AuthTest, ARayletRunsOnlyTheCodeAJobRegistered) {
  auto gcs = glint::MakeStub<glint::proto::GcsService>(cluster_->gcs_address());
  auto raylet = glint::MakeStub<glint::proto::RayletService>(cluster_->head_raylet_address());
  glint::proto::GetAllJobsReply jobs;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs->GetAllJobs(&ctx, {}, &jobs).ok());
  }
  std::string mine;
  for (auto& j : jobs.jobs()) {
    if (j.driver_pid() == getpid() && !j.finished()) mine = j.job_id();
  }
  ASSERT_FALSE(mine.empty());
  const std::string marker = TempDir() + "/ran";
  const std::string script = TempDir() + "/attack.sh";
  std::ofstream(script) << "#!/bin/sh\ntouch " << marker << "\n";
  chmod(script.c_str(), 0755);
  auto lease = [&](const std::string& job_id, const std::string& path) {
    glint::proto::LeaseRequest req;
    req.mutable_job()->set_job_id(job_id);
    req.mutable_job()->mutable_code()->add_paths(path);
    (*req.mutable_resources())["CPU"] = 1;
    grpc::ClientContext ctx;
    glint::SetDeadlineMs(&ctx, 30000);
    glint::proto::LeaseReply reply;
    EXPECT_TRUE(raylet->RequestWorkerLease(&ctx, req, &reply).ok());
    return reply;
  };
  auto granted = lease(mine, script);
  ASSERT_TRUE(granted.has_worker()) << granted.error().message();
  {
    glint::proto::ReturnWorkerRequest ret;
    ret.set_lease_id(granted.lease_id());
    grpc::ClientContext ctx;
    glint::proto::ReturnWorkerReply r;
    EXPECT_TRUE(raylet->ReturnWorker(&ctx, ret, &r).ok());
  }
  EXPECT_FALSE(FileExists(marker)) << "the lease's own code path was run";
  auto unknown = lease(glint::NewAuthToken().substr(0, 16), script);
  EXPECT_FALSE(unknown.has_worker());
  EXPECT_NE(unknown.error().message().find("cannot read job"), std::string::npos) << unknown.error().message();
  EXPECT_FALSE(FileExists(marker));
  // A job registered (with the token) naming a file that is no program.
  const std::string text = TempDir() + "/notes.txt";
  std::ofstream(text) << "not a program\n";
  glint::proto::RegisterJobRequest reg;
  reg.mutable_job()->mutable_code()->add_paths(text);
  glint::proto::RegisterJobReply job;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs->RegisterJob(&ctx, reg, &job).ok());
  }
  auto refused = lease(job.job_id(), script);
  EXPECT_FALSE(refused.has_worker());
  EXPECT_EQ(refused.error().type(), glint::proto::CODE_LOAD_FAILED);
  EXPECT_NE(refused.error().message().find("is not a regular executable"), std::string::npos)
      << refused.error().message();
}

TEST_F(AuthTest, TheCliFindsTheTokenHereAndPrintsIt) {
  int status = 0;
  std::string out = RunCommand(absl::StrCat(GLINT_CLI_PATH, " get-auth-token --address ", cluster_->gcs_address()),
                               &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, cluster_->auth_token() + "\n");
  out = RunCommand(absl::StrCat(GLINT_CLI_PATH, " list nodes --address ", cluster_->gcs_address()), &status);
  EXPECT_EQ(status, 0) << out;
  out = RunCommand(absl::StrCat(GLINT_CLI_PATH, " list nodes --address ", cluster_->gcs_address(),
                                " --auth-token ", glint::NewAuthToken(), " 2>&1"),
                   &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("wrong Glint cluster token"), std::string::npos) << out;
}

TEST(AuthDriverTest, ADriverWithAWrongTokenCannotJoinAndSaysWhy) {
  TestCluster cluster(1);
  glint::Config c;
  c.address = cluster.gcs_address();
  c.auth_token = glint::NewAuthToken();
  try {
    glint::Init(c);
    glint::Shutdown();
    FAIL() << "Init with a wrong token succeeded";
  } catch (const glint::ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("token"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(glint::IsInitialized());
  c.auth_token = cluster.auth_token();
  glint::Init(c);
  EXPECT_EQ(glint::Actor(Keeper::Create).Remote().Task(&Keeper::Pid).Remote().Get() > 0, true);
  glint::Shutdown();
}

TEST(AuthDriverTest, AClusterStartedWithAuthDisabledTakesAnyone) {
  std::string root = TempDir();
  std::string env = absl::StrCat("GLINT_TMPDIR=", root, " ");
  int status = 0;
  std::string out = RunCommand(
      absl::StrCat(env, GLINT_CLI_PATH, " start --head --port 0 --dashboard-port 0 --num-cpus 1 --auth=disabled 2>&1"), &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("authentication is disabled"), std::string::npos) << out;
  std::ifstream f(root + "/session_latest/gcs_address");
  std::string address;
  ASSERT_TRUE(f >> address);
  EXPECT_FALSE(FileExists(root + "/session_latest/auth_token"));
  glint::Config c;
  c.address = address;
  c.auth_token = "";  // none at all
  unsetenv("GLINT_AUTH_TOKEN");
  glint::Init(c);
  EXPECT_GT(glint::Actor(Keeper::Create).Remote().Task(&Keeper::Pid).Remote().Get(), 0);
  glint::Shutdown();
  out = RunCommand(absl::StrCat(env, GLINT_CLI_PATH, " stop"), &status);
  EXPECT_EQ(status, 0) << out;
}

// In a container the token comes from the environment (a Kubernetes
// Secret), not a file: a daemon takes it there and checks calls against it.
TEST(AuthDriverTest, ADaemonTakesTheTokenFromItsEnvironment) {
  std::string dir = TempDir();
  int status = 0;
  std::string pid = RunCommand(absl::StrCat("GLINT_AUTH_TOKEN=token-from-env ", glint::FindBinary("glint-gcs"),
                                            " --port=0 --port_file=", dir, "/port --watch_pid=", getpid(), " >",
                                            dir, "/log 2>&1 & echo $!"),
                               &status);
  ASSERT_EQ(status, 0);
  int port = 0;
  ASSERT_TRUE(glint::testing::WaitUntil([&] { return std::ifstream(dir + "/port") >> port && port > 0; }))
      << glint::testing::ReadFile(dir + "/log");
  const std::string target = absl::StrCat("127.0.0.1:", port);
  auto ask = [&](const std::string& token) {
    auto ch = grpc::CreateChannel(target, grpc::CompositeChannelCredentials(
                                              grpc::experimental::LocalCredentials(LOCAL_TCP),
                                              glint::testing::BearerCredentials(token)));
    return Call(glint::proto::GcsService::NewStub(ch).get(), &glint::proto::GcsService::Stub::GetAllNodes,
                glint::proto::GetAllNodesRequest())
        .error_code();
  };
  EXPECT_EQ(ask("token-from-env"), grpc::StatusCode::OK);
  EXPECT_EQ(ask("another"), grpc::StatusCode::UNAUTHENTICATED);
  glint::StopDaemon(std::stoi(pid), 3000);
}

// A node that cannot start says why in the command's own output, not only
// in a log: a head that does not answer, a TLS file that is not there.
TEST(AuthDriverTest, ANodeThatCannotStartSaysWhy) {
  std::string env = absl::StrCat("GLINT_TMPDIR=", TempDir(), " ");
  // A port bound but not listening: nothing answers there.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string head = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  int status = 0;
  std::string out = RunCommand(
      absl::StrCat(env, GLINT_CLI_PATH, " start --address ", head, " --auth-token t --num-cpus 1 2>&1"), &status);
  close(fd);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("cannot register with the GCS at " + head), std::string::npos) << out;
  EXPECT_NE(out.find("Connection refused"), std::string::npos) << out;
  out = RunCommand(absl::StrCat(env, GLINT_CLI_PATH, " start --head --port 0 --tls-ca /nonexistent/ca.pem 2>&1"),
                   &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("/nonexistent/ca.pem"), std::string::npos) << out;
}

}  // namespace
