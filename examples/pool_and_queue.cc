// pool_and_queue: an ActorPool spreading work over two actors, and a Queue
// that two consumer tasks drain until it stays empty for a second.
#include <glint/api.h>

#include <iostream>
#include <string>
#include <vector>

class Doubler {
 public:
  static Doubler* Create() { return new Doubler(); }
  int Double(int v) { return 2 * v; }
};

// Takes work until none comes for a second; says what it got.
std::string Consumer(int id, glint::Queue<int> queue) {
  std::string got;
  try {
    while (true) got += " " + std::to_string(queue.Get(true, std::chrono::seconds(1)));
  } catch (const glint::QueueEmpty&) {
  }
  return "consumer " + std::to_string(id) + " got work" + got;
}

GLINT_REMOTE(Doubler::Create, &Doubler::Double, Consumer);

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  glint::ActorPool<Doubler> pool({glint::Actor(Doubler::Create).Remote(), glint::Actor(Doubler::Create).Remote()});
  auto twice = [](glint::ActorHandle<Doubler>& a, int v) { return a.Task(&Doubler::Double).Remote(v); };
  std::cout << "pool.Map(double, [1, 2, 3, 4]) =";
  for (int r : pool.Map(twice, std::vector<int>{1, 2, 3, 4})) std::cout << " " << r;
  std::cout << "\n";

  glint::Queue<int> queue(100);
  for (int i = 0; i < 10; ++i) queue.Put(i);
  std::vector<glint::ObjectRef<std::string>> consumers;
  for (int id = 0; id < 2; ++id) consumers.push_back(glint::Task(Consumer).Remote(id, queue));
  for (auto& c : consumers) std::cout << c.Get() << "\n";
  std::cout << "items left in the queue: " << queue.Size() << "\n";
  glint::Shutdown();
  return 0;
}
