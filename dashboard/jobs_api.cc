#include "dashboard/jobs_api.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/utf8.h"

namespace glint::dashboard {
namespace {

constexpr int64_t kDefaultLogBytes = 1 << 20;
constexpr int64_t kMaxLogBytes = 8 << 20;

int HttpStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

HttpResponse Error(const absl::Status& s) { return HttpError(HttpStatus(s), std::string(s.message())); }

HttpResponse Json(const nlohmann::json& j) {
  return {200, "application/json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

// The request's fields, checked for type; InvalidArgument names the bad one.
absl::StatusOr<proto::JobSubmission> ParseSubmission(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  proto::JobSubmission r;
  auto text = [&](const nlohmann::json& v, const char* field, std::string* out) -> absl::Status {
    if (v.is_null()) return absl::OkStatus();
    if (!v.is_string()) return absl::InvalidArgumentError(absl::StrCat("'", field, "' must be a string"));
    *out = v.get<std::string>();
    if (!IsUtf8(*out)) return absl::InvalidArgumentError(absl::StrCat("'", field, "' must be UTF-8"));
    return absl::OkStatus();
  };
  for (auto& [key, value] : j.items()) {
    absl::Status s;
    if (key == "entrypoint") {
      s = text(value, "entrypoint", r.mutable_entrypoint());
    } else if (key == "submission_id" || key == "job_id") {
      s = text(value, key.c_str(), r.mutable_submission_id());
    } else if (key == "working_dir") {
      s = text(value, "working_dir", r.mutable_working_dir());
    } else if (key == "runtime_env") {  // Ray's place for it
      if (!value.is_null() && !value.is_object()) return absl::InvalidArgumentError("'runtime_env' must be an object");
      for (auto& [k, v] : value.items()) {
        if (k != "working_dir") {
          return absl::InvalidArgumentError(absl::StrCat("runtime_env '", k, "' is not supported (only working_dir)"));
        }
        s = text(v, "runtime_env.working_dir", r.mutable_working_dir());
      }
    } else if (key == "entrypoint_num_cpus") {
      if (!value.is_null() && !value.is_number()) {
        return absl::InvalidArgumentError("'entrypoint_num_cpus' must be a number");
      }
      r.set_entrypoint_num_cpus(value.is_null() ? 0 : value.get<double>());
    } else if (key == "metadata") {
      if (!value.is_null() && !value.is_object()) return absl::InvalidArgumentError("'metadata' must be an object");
      for (auto& [k, v] : value.items()) {
        if (!v.is_string() || !IsUtf8(k) || !IsUtf8(v.get<std::string>())) {
          return absl::InvalidArgumentError("metadata must map UTF-8 strings to UTF-8 strings");
        }
        (*r.mutable_metadata())[k] = v.get<std::string>();
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown field '", key, "'"));
    }
    if (!s.ok()) return s;
  }
  return r;
}

absl::StatusOr<int64_t> QueryNumber(const HttpRequest& r, const std::string& key, int64_t fallback) {
  auto it = r.query.find(key);
  if (it == r.query.end()) return fallback;
  int64_t v = 0;
  if (!absl::SimpleAtoi(it->second, &v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be a number of 0 or more"));
  }
  return v;
}

}  // namespace

std::string JobStatusName(proto::JobStatus s) {
  return std::string(absl::StripPrefix(proto::JobStatus_Name(s), "JOB_"));
}

nlohmann::json JobJson(const proto::JobSubmission& job) {
  nlohmann::json j = {
      {"submission_id", job.submission_id()},
      {"entrypoint", job.entrypoint()},
      {"status", JobStatusName(job.status())},
      {"message", job.message()},
      {"metadata", nlohmann::json::object()},
      {"working_dir", job.working_dir()},
      {"package", job.package()},
      {"entrypoint_num_cpus", job.entrypoint_num_cpus()},
      {"submitted_ms", job.submitted_ms()},
      {"start_ms", job.start_ms()},
      {"end_ms", job.end_ms()},
      {"driver_pid", job.driver_pid()},
      {"driver_exit_code", nullptr},
      {"log_file", job.log_file()},
  };
  for (const auto& [k, v] : job.metadata()) j["metadata"][k] = v;
  if (job.has_exit_code()) j["driver_exit_code"] = job.exit_code();
  return j;
}

void AddJobRoutes(HttpServer* server, JobSupervisor* jobs, bool auth_enabled) {
  const absl::Status refused = absl::PermissionDeniedError(
      "this cluster was started with authentication disabled; it runs no submitted jobs (start it with a token)");
  server->Route("POST", "/api/jobs", [jobs, auth_enabled, refused](const HttpRequest& r) {
    if (!auth_enabled) return Error(refused);
    auto request = ParseSubmission(r.body);
    if (!request.ok()) return Error(request.status());
    auto job = jobs->Submit(std::move(*request));
    if (!job.ok()) return Error(job.status());
    return Json({{"submission_id", job->submission_id()}, {"job_id", job->submission_id()}});
  });
  server->Route("GET", "/api/jobs", [jobs](const HttpRequest&) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& job : jobs->List()) list.push_back(JobJson(job));
    return Json(list);
  });
  server->Route("GET", "/api/jobs/{}", [jobs](const HttpRequest& r) {
    auto job = jobs->Get(r.params[0]);
    return job.ok() ? Json(JobJson(*job)) : Error(job.status());
  });
  server->Route("GET", "/api/jobs/{}/logs", [jobs](const HttpRequest& r) {
    auto offset = QueryNumber(r, "offset", 0);
    if (!offset.ok()) return Error(offset.status());
    auto limit = QueryNumber(r, "limit", kDefaultLogBytes);
    if (!limit.ok()) return Error(limit.status());
    auto chunk = jobs->Logs(r.params[0], *offset, std::min(*limit, kMaxLogBytes));
    if (!chunk.ok()) return Error(chunk.status());
    return Json({{"logs", chunk->text}, {"next_offset", chunk->next_offset}});
  });
  server->Route("POST", "/api/jobs/{}/stop", [jobs, auth_enabled, refused](const HttpRequest& r) {
    if (!auth_enabled) return Error(refused);
    auto job = jobs->Stop(r.params[0]);
    if (!job.ok()) return Error(job.status());
    return Json({{"stopped", !JobEnded(job->status())}});
  });
}

}  // namespace glint::dashboard
