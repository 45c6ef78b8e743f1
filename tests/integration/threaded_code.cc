// A job's program that runs a thread before glint::Init(): its workers
// cannot be forked safely (fork copies one thread), so the raylet starts
// each from scratch (worker_startup_test.cc). As a driver it makes four
// actors one after another and prints "PIDS" and their pids.
#include <glint/api.h>
#include <unistd.h>

#include <iostream>
#include <thread>

namespace {
class Where {
 public:
  static Where* Create() { return new Where(); }
  int Pid() { return getpid(); }
};
GLINT_REMOTE(Where::Create, &Where::Pid);
}  // namespace

int main() {
  std::thread([] { pause(); }).detach();  // waits for a signal: never returns
  glint::Init();  // in worker mode: serves, never returns
  std::cout << "PIDS";
  for (int i = 0; i < 4; ++i) {
    auto a = glint::Actor(Where::Create).Remote();
    std::cout << " " << a.Task(&Where::Pid).Remote().Get();
  }
  std::cout << std::endl;
  glint::Shutdown();
  return 0;
}
