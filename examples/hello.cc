// hello: tasks, an actor, Put/Get — the first Glint program to read.
#include <glint/api.h>

#include <iostream>
#include <string>

int Plus(int a, int b) { return a + b; }

std::string Greet(std::string name) {
  // What a task or an actor prints shows on the driver's stderr, prefixed
  // with where it ran: "(Greet pid=... node=...) greeting glint".
  std::cout << "greeting " << name << std::endl;
  return "hello, " + name;
}

class Counter {
 public:
  static Counter* Create(int start) { return new Counter(start); }
  int Increment() {
    std::cout << "counter at " << n_ + 1 << std::endl;
    return ++n_;
  }
  int Get() const { return n_; }

 private:
  explicit Counter(int start) : n_(start) {}
  int n_;
};

GLINT_REMOTE(Plus, Greet, Counter::Create, &Counter::Increment, &Counter::Get);

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  auto three = glint::Task(Plus).Remote(1, 2);
  std::cout << "Plus(1, 2) = " << three.Get() << "\n";
  // An ObjectRef passed where an int is expected is resolved first.
  std::cout << "Plus(Plus(1, 2), 10) = " << glint::Task(Plus).Remote(three, 10).Get() << "\n";
  std::cout << glint::Task(Greet).Remote("glint").Get() << "\n";

  auto counter = glint::Actor(Counter::Create).Remote(100);
  for (int i = 0; i < 3; ++i) counter.Task(&Counter::Increment).Remote();
  std::cout << "counter = " << counter.Task(&Counter::Get).Remote().Get() << "\n";

  auto ref = glint::Put(std::string("put me"));
  std::cout << "Put/Get: " << glint::Get(ref) << "\n";
  glint::Shutdown();
  return 0;
}
