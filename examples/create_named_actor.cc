// create_named_actor: makes a detached actor named "counter" in namespace
// "demo", uses it, and exits. The actor outlives this driver.
//   GLINT_ADDRESS=HOST:PORT ./create_named_actor
#include <iostream>

#include "counter.h"

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  auto counter = glint::Actor(Counter::Create)
                     .SetName("counter")
                     .SetNamespace("demo")
                     .SetLifetime(glint::Lifetime::kDetached)
                     .Remote("visits", 0);
  int v = counter.Task(&Counter::Increment).Remote(1).Get();
  std::cout << "[create_named_actor] created detached actor 'counter' in namespace 'demo'; after one visit: "
            << v << "\n";
  glint::Shutdown();
  return 0;
}
