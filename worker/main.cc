// glint-worker: what a raylet starts to run a job's code. When the job's code
// is an executable, the worker becomes that program in worker mode (exec);
// when it is shared libraries, it loads them and serves tasks itself.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/src/worker_entry.h"

int main() {
  const char* paths_env = getenv("GLINT_CODE_PATHS");
  std::vector<std::string> paths = absl::StrSplit(paths_env ? paths_env : "", ':', absl::SkipEmpty());
  for (const auto& p : paths) {
    if (absl::StrContains(p, ".so")) continue;
    if (access(p.c_str(), X_OK) != 0) {
      glint::internal::FailWorkerStartup(
          absl::StrCat("cannot load the job's code: ", p, " does not exist or is not executable"));
    }
    setenv("GLINT_WORKER_MODE", "1", 1);
    char* argv[] = {const_cast<char*>(p.c_str()), nullptr};
    execv(p.c_str(), argv);
    glint::internal::FailWorkerStartup(absl::StrCat("cannot run the job's code ", p));
  }
  glint::internal::RunWorkerProcess();
}
