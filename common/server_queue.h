// ServerQueue: the one completion queue a daemon (the GCS, a raylet) serves
// its requests from and makes its own calls on, polled by one thread of its
// own with a cover thread (queue_poller.h), as libglint's processes poll
// theirs: a request is answered by the thread that took it off the socket.
// (On gRPC's callback API, its threads pass every event on to another
// thread; on a small VM that switch cost as much as the rest of a call.)
//
// Its owner, in this order:
//   StartServer(..., queue.slot())    the queue is made with the server
//   queue.client()                    calls out, run once the queue is polled
//   service.Serve(queue.cq())         requests wait in gRPC until then
//   queue.Start("glint-...")          polled from now on
// and to stop: close its calls out (ClientQueue::Close), shut the server
// down (its calls end on the queue), then queue.Stop().
#pragma once
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/async_call.h"
#include "common/queue_poller.h"

namespace glint {

class ServerQueue {
 public:
  ServerQueue() = default;
  ~ServerQueue() { Stop(); }
  ServerQueue(const ServerQueue&) = delete;
  ServerQueue& operator=(const ServerQueue&) = delete;

  // Where StartServer puts the queue. (A member of the owner declared
  // before its server: the queue must outlive the server.)
  std::unique_ptr<grpc::ServerCompletionQueue>* slot() { return &cq_; }
  grpc::ServerCompletionQueue* cq() const { return cq_.get(); }
  // The owner's calls out, on this queue. First called by the owner's
  // start-up, after StartServer.
  ClientQueue* client();
  // Polls the queue on a thread named `thread_name`, with a cover thread.
  void Start(const std::string& thread_name);
  // Runs what is queued (answers that start no new operation after the
  // queue shuts), shuts the queue down and joins its threads. After the
  // server's Shutdown; again, or without Start, does nothing.
  void Stop();

 private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::optional<ClientQueue> client_;
  std::unique_ptr<QueuePoller> poller_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace glint
