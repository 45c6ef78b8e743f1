// multi_node: a task and an actor that need a custom resource only the worker
// node has ("special"), so they run there; the rest runs where it fits. A
// 32 MiB value put here is read there: it goes through this node's object
// store and is pulled into the other node's.
//   GLINT_ADDRESS=HOST:PORT ./multi_node
#include <glint/api.h>
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

std::string WhereAmI() { return "pid " + std::to_string(getpid()) + " on node " + getenv("GLINT_NODE_ID"); }

class Probe {
 public:
  static Probe* Create() { return new Probe(); }
  std::string Where() { return WhereAmI(); }
};

// Adds up every byte of a large value.
uint64_t Sum(std::vector<uint8_t> data) {
  uint64_t s = 0;
  for (uint8_t b : data) s += b;
  return s;
}

GLINT_REMOTE(WhereAmI, Probe::Create, &Probe::Where, Sum);

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  std::cout << "plain task ran at:    " << glint::Task(WhereAmI).Remote().Get() << "\n";
  std::cout << "'special' task ran at: "
            << glint::Task(WhereAmI).SetResources({{"special", 1}}).Remote().Get() << "\n";
  auto probe = glint::Actor(Probe::Create).SetResources({{"special", 1}}).Remote();
  std::cout << "'special' actor is at: " << probe.Task(&Probe::Where).Remote().Get() << "\n";
  glint::Kill(probe);  // gives the node's 'special' back
  auto big = glint::Put(std::vector<uint8_t>(32 << 20, 3));
  std::cout << "a 32 MiB value put here sums to " << glint::Task(Sum).SetResources({{"special", 1}}).Remote(big).Get()
            << " over there (expected " << 3ull * (32 << 20) << ")\n";
  glint::Shutdown();
  return 0;
}
