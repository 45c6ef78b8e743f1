// main() of the integration test programs. The test program is also the
// job's code: a raylet re-runs it in worker mode, where Init never returns.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
