// multi_node: a task and an actor that need a custom resource only the worker
// node has ("special"), so they run there; the rest runs where it fits.
//   GLINT_ADDRESS=HOST:PORT ./multi_node
#include <glint/api.h>
#include <unistd.h>

#include <iostream>
#include <string>

std::string WhereAmI() { return "pid " + std::to_string(getpid()) + " on node " + getenv("GLINT_NODE_ID"); }

class Probe {
 public:
  static Probe* Create() { return new Probe(); }
  std::string Where() { return WhereAmI(); }
};

GLINT_REMOTE(WhereAmI, Probe::Create, &Probe::Where);

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  std::cout << "plain task ran at:    " << glint::Task(WhereAmI).Remote().Get() << "\n";
  std::cout << "'special' task ran at: "
            << glint::Task(WhereAmI).SetResources({{"special", 1}}).Remote().Get() << "\n";
  auto probe = glint::Actor(Probe::Create).SetResources({{"special", 1}}).Remote();
  std::cout << "'special' actor is at: " << probe.Task(&Probe::Where).Remote().Get() << "\n";
  glint::Shutdown();
  return 0;
}
