#include "common/health_service.h"

#include <algorithm>

#include "common/server_call.h"

namespace glint {

void HealthService::Serve(grpc::ServerCompletionQueue* cq) {
  using Reply = grpc::health::v1::HealthCheckResponse;
  ServeUnary(this, cq, &grpc::health::v1::Health::AsyncService::RequestCheck,
             [this](const grpc::health::v1::HealthCheckRequest& req, Reply* reply) {
               const std::string& name = req.service();
               if (!name.empty() && std::find(services_.begin(), services_.end(), name) == services_.end()) {
                 return absl::NotFoundError("unknown service");
               }
               reply->set_status(Reply::SERVING);
               return absl::OkStatus();
             });
}

}  // namespace glint
