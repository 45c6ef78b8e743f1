#include "client/src/gcs_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/queue_poller.h"
#include "common/ids.h"
#include "common/logging.h"

namespace glint::internal {
namespace {
using Stub = proto::GcsService::Stub;
constexpr int64_t kTimeoutMs = 10000;
}  // namespace

GcsClient::GcsClient(ClientQueue* queue, std::string address, int64_t reconnect_timeout_ms)
    : queue_(queue),
      address_(std::move(address)),
      reconnect_timeout_ms_(reconnect_timeout_ms),
      stub_(MakeStub<proto::GcsService>(address_)) {}

absl::Status GcsClient::Retrying(const std::function<absl::Status()>& attempt) {
  const int64_t give_up = NowMs() + reconnect_timeout_ms_;
  int64_t backoff_ms = 50;
  while (true) {
    auto s = attempt();
    // Unreachable, or too slow to answer (a GCS starting, or swamped): the
    // calls made here are safe to repeat (a repeated CreateActor or
    // CreatePlacementGroup gets what the first one made; a repeated
    // RegisterJob leaves a job no driver keeps alive, which ends unproven).
    if (!absl::IsUnavailable(s) && !absl::IsDeadlineExceeded(s)) {
      if (unreachable_.exchange(false)) LOG(INFO) << "the GCS at " << address_ << " answers again";
      return s;
    }
    {
      absl::MutexLock lock(&keepalive_mu_);
      if (stopped_) return s;
    }
    if (NowMs() >= give_up) {
      return absl::UnavailableError(absl::StrCat("the GCS at ", address_, " did not answer for ",
                                                 reconnect_timeout_ms_ / 1000.0, " s: ", s.message()));
    }
    if (!unreachable_.exchange(true)) {
      LOG(WARNING) << "the GCS at " << address_ << " does not answer (" << s.message() << "); trying again for up to "
                   << reconnect_timeout_ms_ / 1000.0 << " s";
    }
    QueuePoller::BlockingScope blocking;
    absl::SleepFor(absl::Milliseconds(std::min(backoff_ms, give_up - NowMs())));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
  }
}

template <typename Req, typename Reply, typename Method>
absl::Status GcsClient::Call(Method method, const Req& req, int64_t timeout_ms, Reply* reply) {
  return Retrying([&] { return BlockingCall(queue_, stub_.get(), method, req, timeout_ms, reply); });
}

absl::StatusOr<proto::JobInfo> GcsClient::RegisterJob(const proto::JobInfo& job) {
  proto::RegisterJobRequest req;
  *req.mutable_job() = job;
  proto::RegisterJobReply reply;
  if (auto s = Call(&Stub::PrepareAsyncRegisterJob, std::move(req), 5000, &reply);
      !s.ok()) {
    return s;
  }
  proto::JobInfo registered = job;
  registered.set_job_id(reply.job_id());
  registered.set_ray_namespace(reply.ray_namespace());
  return registered;
}

absl::StatusOr<proto::JobInfo> GcsClient::GetJob(const std::string& job_id) {
  proto::GetJobRequest req;
  req.set_job_id(job_id);
  proto::GetJobReply reply;
  if (auto s = Call(&Stub::PrepareAsyncGetJob, std::move(req), 5000, &reply); !s.ok()) {
    return s;
  }
  return reply.job();
}

absl::Status GcsClient::FinishJob(const std::string& job_id) {
  proto::FinishJobRequest req;
  req.set_job_id(job_id);
  proto::FinishJobReply reply;
  return BlockingCall(queue_, stub_.get(), &Stub::PrepareAsyncFinishJob, std::move(req), 2000, &reply);
}

void GcsClient::KeepJobAlive(const std::string& job_id) {
  absl::MutexLock lock(&keepalive_mu_);
  int64_t now = NowMs();
  if (keepalive_open_ || stopped_ || now < keepalive_retry_ms_) return;
  keepalive_open_ = true;
  keepalive_opened_ms_ = now;
  proto::JobKeepAliveRequest req;
  req.set_job_id(job_id);
  CallAsync(queue_, stub_.get(), &Stub::PrepareAsyncJobKeepAlive, std::move(req), 0,
            [this](const absl::Status& s, proto::JobKeepAliveReply&) {
              absl::MutexLock lock(&keepalive_mu_);
              keepalive_open_ = false;
              if (stopped_) return;
              // A call that stayed open a while dropped (the GCS went away):
              // said once; reopening backs off until it is back.
              int64_t now = NowMs();
              if (now - keepalive_opened_ms_ >= 1000) {
                LOG(WARNING) << "the job's keep-alive call to the GCS at " << address_ << " ended (" << s
                             << "); reopening it";
                keepalive_backoff_ms_ = 0;
              }
              keepalive_backoff_ms_ = std::clamp<int64_t>(keepalive_backoff_ms_ * 2, 100, 2000);
              keepalive_retry_ms_ = now + keepalive_backoff_ms_;
            });
}

absl::StatusOr<std::vector<proto::NodeInfo>> GcsClient::GetAllNodes() {
  proto::GetAllNodesReply reply;
  if (auto s = Call(&Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), 5000, &reply); !s.ok()) {
    return s;
  }
  return std::vector<proto::NodeInfo>(reply.nodes().begin(), reply.nodes().end());
}

void GcsClient::GetAllNodesAsync(NodesFn done) {
  CallAsync(queue_, stub_.get(), &Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), kTimeoutMs,
            std::move(done));
}

absl::StatusOr<proto::ActorInfo> GcsClient::CreateActor(proto::CreateActorRequest req) {
  proto::CreateActorReply reply;
  if (auto s = Call(&Stub::PrepareAsyncCreateActor, std::move(req), 30000, &reply);
      !s.ok()) {
    return s;
  }
  return reply.actor();
}

absl::StatusOr<std::optional<proto::ActorInfo>> GcsClient::GetNamedActor(const std::string& name,
                                                                        const std::string& ns) {
  proto::GetActorRequest req;
  req.set_name(name);
  req.set_ray_namespace(ns);
  proto::GetActorReply reply;
  if (auto s = Call(&Stub::PrepareAsyncGetActor, std::move(req), kTimeoutMs, &reply);
      !s.ok()) {
    return s;
  }
  if (!reply.found()) return std::nullopt;
  return reply.actor();
}

absl::Status GcsClient::KillActor(const std::string& actor_id, bool no_restart, const std::string& reason) {
  proto::KillActorRequest req;
  req.set_actor_id(actor_id);
  req.set_no_restart(no_restart);
  req.set_reason(reason);
  proto::KillActorReply reply;
  return Call(&Stub::PrepareAsyncKillActor, std::move(req), kTimeoutMs, &reply);
}

absl::StatusOr<proto::PlacementGroupInfo> GcsClient::CreatePlacementGroup(const proto::PlacementGroupInfo& group) {
  proto::CreatePlacementGroupRequest req;
  *req.mutable_group() = group;
  proto::CreatePlacementGroupReply reply;
  if (auto s = Call(&Stub::PrepareAsyncCreatePlacementGroup, std::move(req), kTimeoutMs,
                            &reply);
      !s.ok()) {
    return s;
  }
  return reply.group();
}

absl::StatusOr<std::optional<proto::PlacementGroupInfo>> GcsClient::GetPlacementGroup(
    proto::GetPlacementGroupRequest req) {
  int64_t timeout = kTimeoutMs + req.wait_timeout_ms();
  proto::GetPlacementGroupReply reply;
  if (auto s = Call(&Stub::PrepareAsyncGetPlacementGroup, std::move(req), timeout, &reply);
      !s.ok()) {
    return s;
  }
  if (!reply.found()) return std::nullopt;
  return reply.group();
}

absl::Status GcsClient::RemovePlacementGroup(const std::string& group_id) {
  proto::RemovePlacementGroupRequest req;
  req.set_group_id(group_id);
  proto::RemovePlacementGroupReply reply;
  return Call(&Stub::PrepareAsyncRemovePlacementGroup, std::move(req), kTimeoutMs, &reply);
}

void GcsClient::KillActorAsync(const std::string& actor_id, const std::string& reason) {
  proto::KillActorRequest req;
  req.set_actor_id(actor_id);
  req.set_no_restart(true);
  req.set_reason(reason);
  CallAsync(queue_, stub_.get(), &Stub::PrepareAsyncKillActor, std::move(req), kTimeoutMs,
            [actor_id](const absl::Status& s, proto::KillActorReply&) {
              LogCallFailure(absl::StrCat("ending actor ", ShortHex(actor_id)), s);
            });
}

void GcsClient::WatchActor(const std::string& actor_id, int64_t version, int64_t timeout_ms, ActorFn done) {
  proto::GetActorRequest req;
  req.set_actor_id(actor_id);
  req.set_wait_newer_than(std::max<int64_t>(version, 0));
  req.set_wait_timeout_ms(timeout_ms);
  CallAsync(queue_, stub_.get(), &Stub::PrepareAsyncGetActor, std::move(req), timeout_ms + 10000, std::move(done));
}

void GcsClient::WatchPlacementGroup(const std::string& group_id, int64_t timeout_ms, GroupFn done) {
  proto::GetPlacementGroupRequest req;
  req.set_group_id(group_id);
  req.set_wait_timeout_ms(std::max<int64_t>(timeout_ms, 1));
  CallAsync(queue_, stub_.get(), &Stub::PrepareAsyncGetPlacementGroup, std::move(req), timeout_ms + kTimeoutMs,
            std::move(done));
}

void GcsClient::Stop() {
  absl::MutexLock lock(&keepalive_mu_);
  stopped_ = true;
}

}  // namespace glint::internal
