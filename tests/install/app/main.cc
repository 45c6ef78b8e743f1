// A driver built outside the Glint tree against the installed package.
#include <glint/api.h>

#include <iostream>

int Square(int x) { return x * x; }

class Acc {
 public:
  static Acc* Create() { return new Acc(); }
  int Add(int x) { return total_ += x; }

 private:
  int total_ = 0;
};

GLINT_REMOTE(Square, Acc::Create, &Acc::Add);

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  auto acc = glint::Actor(Acc::Create).Remote();
  int last = 0;
  for (int i = 1; i <= 4; ++i) last = acc.Task(&Acc::Add).Remote(glint::Task(Square).Remote(i)).Get();
  std::cout << "sum of squares 1..4 = " << last << "\n";
  glint::Shutdown();
  return last == 30 ? 0 : 1;
}
