// use_named_actor: finds the actor "counter" in namespace "demo" by name (made
// by another driver, which may have exited), calls it, and, with --kill,
// kills it.
//   GLINT_ADDRESS=HOST:PORT ./use_named_actor [--kill]
#include <cstring>
#include <iostream>

#include "counter.h"

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  auto counter = glint::GetActor<Counter>("counter", "demo");
  if (!counter) {
    std::cout << "[use_named_actor] no actor named 'counter' in namespace 'demo'\n";
    glint::Shutdown();
    return 1;
  }
  for (int i = 0; i < 5; ++i) counter->Task(&Counter::Increment).Remote(10);
  std::cout << "[use_named_actor] found 'counter' by name; after five calls of +10: "
            << counter->Task(&Counter::Describe).Remote().Get() << "\n";
  if (argc > 1 && std::strcmp(argv[argc - 1], "--kill") == 0) {
    glint::Kill(*counter);
    std::cout << "[use_named_actor] killed 'counter'\n";
  }
  glint::Shutdown();
  return 0;
}
