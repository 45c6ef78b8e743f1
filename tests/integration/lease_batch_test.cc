// RequestWorkerLeases against a real raylet (2 CPUs): several workers of one
// shape asked in one call, each answered on the call's stream as it is
// decided; a grant the caller can no longer take goes back to the node (in
// that call and in the one-worker call), and so does a grant its holder
// never used (it died before its first call), whose late stream the worker
// refuses; calls asking for no worker, or too many, are refused. (Drivers'
// tasks lease through this call: every task test drives it too.)
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "common/limits.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;

int Square(int x) { return x * x; }
GLINT_REMOTE(Square);

class LeaseBatchTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
  void SetUp() override {
    raylet_ = glint::MakeStub<glint::proto::RayletService>(cluster_->head_raylet_address());
    auto gcs = glint::MakeStub<glint::proto::GcsService>(cluster_->gcs_address());
    glint::proto::GetAllJobsReply jobs;
    grpc::ClientContext ctx;
    ASSERT_TRUE(gcs->GetAllJobs(&ctx, {}, &jobs).ok());
    for (auto& j : jobs.jobs()) {
      if (j.driver_pid() == getpid() && !j.finished()) job_id_ = j.job_id();
    }
    ASSERT_FALSE(job_id_.empty()) << "this driver's job";
  }
  glint::proto::LeaseRequest OneCpu(int count) {
    glint::proto::LeaseRequest req;
    req.mutable_job()->set_job_id(job_id_);
    (*req.mutable_resources())["CPU"] = 1;
    req.set_count(count);
    return req;
  }
  void Return(const glint::proto::LeaseReply& grant) {
    glint::proto::ReturnWorkerRequest ret;
    ret.set_lease_id(grant.lease_id());
    grpc::ClientContext ctx;
    glint::proto::ReturnWorkerReply r;
    EXPECT_TRUE(raylet_->ReturnWorker(&ctx, ret, &r).ok());
  }
  // One CPU's lease asked alone, within `ms`: whether it was granted.
  bool OneCpuGrantedWithin(int64_t ms, glint::proto::LeaseReply* reply) {
    grpc::ClientContext ctx;
    glint::SetDeadlineMs(&ctx, ms);
    auto s = raylet_->RequestWorkerLease(&ctx, OneCpu(1), reply);
    return s.ok() && reply->has_worker();
  }

  // After a grant went to a caller that had left: a CPU is free again.
  void ExpectTheCpuCameBack() {
    glint::proto::LeaseReply next;
    ASSERT_TRUE(OneCpuGrantedWithin(30000, &next)) << "a CPU stayed leased to a caller that left: "
                                                   << next.error().message();
    Return(next);
  }

  std::unique_ptr<glint::proto::RayletService::Stub> raylet_;
  std::string job_id_;
};

TEST_F(LeaseBatchTest, ACallGetsWhatFitsAtOnceAndTheRestAsWorkersAreGivenBack) {
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 60000);
  auto stream = raylet_->RequestWorkerLeases(&ctx, OneCpu(3));
  glint::proto::LeaseReply first, second, third;
  ASSERT_TRUE(stream->Read(&first));
  ASSERT_TRUE(stream->Read(&second));
  ASSERT_TRUE(first.has_worker()) << first.error().message();
  ASSERT_TRUE(second.has_worker()) << second.error().message();
  EXPECT_NE(first.worker().worker_id(), second.worker().worker_id());
  Return(first);  // the third waited for a CPU: it gets this one
  ASSERT_TRUE(stream->Read(&third));
  ASSERT_TRUE(third.has_worker()) << third.error().message();
  glint::proto::LeaseReply more;
  EXPECT_FALSE(stream->Read(&more)) << "the call ends once all three are answered";
  EXPECT_TRUE(stream->Finish().ok());
  Return(second);
  Return(third);
}

TEST_F(LeaseBatchTest, AGrantItsCallerCanNoLongerTakeGoesBackToTheNode) {
  glint::proto::LeaseReply first, second;
  {
    grpc::ClientContext ctx;
    glint::SetDeadlineMs(&ctx, 60000);
    auto stream = raylet_->RequestWorkerLeases(&ctx, OneCpu(3));
    ASSERT_TRUE(stream->Read(&first));
    ASSERT_TRUE(stream->Read(&second));
    ASSERT_TRUE(first.has_worker() && second.has_worker());
    ctx.TryCancel();  // the third still waits for a CPU on the node
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The CPU given back goes to the third request, whose caller is gone: it
  // must come back, or no CPU is free for the next caller.
  Return(first);
  ExpectTheCpuCameBack();
  Return(second);
}

// The same for the one-worker call (the GCS leases actors' workers so): a
// caller past its deadline when its grant comes does not keep the worker.
TEST_F(LeaseBatchTest, AOneWorkerGrantItsCallerCanNoLongerTakeGoesBackToTheNode) {
  glint::proto::LeaseReply first, second, late;
  ASSERT_TRUE(OneCpuGrantedWithin(30000, &first)) << first.error().message();
  ASSERT_TRUE(OneCpuGrantedWithin(30000, &second)) << second.error().message();
  // No CPU is free: this caller waits, and leaves at its deadline.
  EXPECT_FALSE(OneCpuGrantedWithin(300, &late));
  // The CPU given back goes to that request, whose caller is gone: it must
  // come back, or no CPU is free for the next caller.
  Return(first);
  ExpectTheCpuCameBack();
  Return(second);
}

TEST_F(LeaseBatchTest, ACallAsksForOneToTheLimitOfWorkersAndNamesItsJob) {
  for (int count : {0, -1, glint::kMaxLeasesPerCall + 1}) {
    grpc::ClientContext ctx;
    glint::SetDeadlineMs(&ctx, 10000);
    auto stream = raylet_->RequestWorkerLeases(&ctx, OneCpu(count));
    glint::proto::LeaseReply r;
    EXPECT_FALSE(stream->Read(&r));
    auto s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << count;
    EXPECT_NE(s.error_message().find("1 to 64 workers"), std::string::npos) << s.error_message();
  }
  // A job the GCS does not know: every worker asked for is refused, saying so.
  auto unknown = OneCpu(2);
  unknown.mutable_job()->set_job_id(std::string(job_id_.size(), 'x'));
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 30000);
  auto stream = raylet_->RequestWorkerLeases(&ctx, unknown);
  glint::proto::LeaseReply r;
  int refused = 0;
  while (stream->Read(&r)) {
    EXPECT_FALSE(r.has_worker());
    EXPECT_NE(r.error().message().find("cannot read job"), std::string::npos) << r.error().message();
    ++refused;
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(refused, 2);
}

// A driver's tasks submitted in a loop: the workers they want are asked
// for in few calls, counted by the node's /metrics.
TEST_F(LeaseBatchTest, TasksSubmittedInALoopAskForTheirWorkersInFewCalls) {
  const double calls0 = HeadMetric("glint_node_lease_calls_total{");
  const double asked0 = HeadMetric("glint_node_lease_requests_total{");
  ASSERT_GE(calls0, 0);
  ASSERT_GE(asked0, 0);
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < 500; ++i) refs.push_back(glint::Task(Square).Remote(i));
  for (int i = 0; i < 500; ++i) ASSERT_EQ(refs[i].Get(std::chrono::seconds(60)), i * i);
  const double calls = HeadMetric("glint_node_lease_calls_total{") - calls0;
  const double asked = HeadMetric("glint_node_lease_requests_total{") - asked0;
  std::cout << "lease calls " << calls << ", workers asked for " << asked << std::endl;
  EXPECT_GE(calls, 1);
  EXPECT_LT(calls, asked) << "some call asked for several workers";
}

}  // namespace

// A raylet that asks about leases unused for 1 s (--unused_lease_timeout_ms).
class UnusedLeaseTest : public LeaseBatchTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2, "", "", {"--unused_lease_timeout_ms=1000"}); }
};

// Opens the PushTasks stream a holder opens to the worker of `grant`, naming its lease.
struct HolderStream {
  explicit HolderStream(const glint::proto::LeaseReply& grant)
      : stub(glint::MakeStub<glint::proto::WorkerService>(glint::AddrString(grant.worker()))) {
    ctx.AddMetadata(glint::kLeaseIdMetadataKey, grant.lease_id());
    glint::SetDeadlineMs(&ctx, 60000);
    rw = stub->PushTasks(&ctx);
  }
  std::unique_ptr<glint::proto::WorkerService::Stub> stub;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReaderWriter<glint::proto::PushTaskBatch, glint::proto::PushTaskReplyBatch>> rw;
};

TEST_F(UnusedLeaseTest, ALeaseNoHolderUsedGoesBackAndItsLateStreamIsRefused) {
  glint::proto::LeaseReply unused, used, next;
  ASSERT_TRUE(OneCpuGrantedWithin(30000, &unused)) << unused.error().message();
  ASSERT_TRUE(OneCpuGrantedWithin(30000, &used)) << used.error().message();
  HolderStream in_use(used);  // its holder came: it keeps its lease

  // The holder of `unused` never came: its CPU comes back.
  ASSERT_TRUE(OneCpuGrantedWithin(30000, &next)) << "a CPU stayed leased to a holder that never came: "
                                                 << next.error().message();
  HolderStream next_in_use(next);
  // ... and the leases in use stay: no third CPU is free while they are held.
  glint::proto::LeaseReply none;
  EXPECT_FALSE(OneCpuGrantedWithin(3000, &none)) << "the lease in use was taken back";

  // The holder comes after all: too late, its worker refuses it.
  HolderStream late(unused);
  glint::proto::PushTaskReplyBatch reply;
  EXPECT_FALSE(late.rw->Read(&reply));
  auto s = late.rw->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("given back"), std::string::npos) << s.error_message();

  // The holders let go: their workers give the leases back.
  for (auto* h : {&in_use, &next_in_use}) {
    h->rw->WritesDone();
    EXPECT_TRUE(h->rw->Finish().ok());
  }
  ExpectTheCpuCameBack();
}
