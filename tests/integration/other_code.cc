// A different program used as a job's code in tests: it registers none of
// the test program's functions.
#include <glint/api.h>

int OtherOnly(int x) { return x; }
GLINT_REMOTE(OtherOnly);

int main() {
  glint::Init();
  return 0;
}
