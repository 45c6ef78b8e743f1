// Ticker: runs a function every period on a thread of its own, until Stop().
// Between ticks the thread waits on a condition, so Stop() (or Poke())
// wakes it at once instead of after a sleep. Start once, Stop once (the
// destructor stops it too); Poke is thread-safe.
#pragma once
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace glint {

class Ticker {
 public:
  Ticker() = default;
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  ~Ticker() { Stop(); }

  // Runs `tick` every `period` (the first one after a period) on a thread
  // named `name`.
  void Start(const char* name, absl::Duration period, std::function<void()> tick);
  // Runs the next tick now.
  void Poke();
  // Ticks every `period` from now on; a shorter period than before ticks
  // at once (so a ticker woken from a long wait catches up).
  void SetPeriod(absl::Duration period);
  // Wakes the thread and joins it (after the tick that runs, if any).
  void Stop();

 private:
  void Run();
  std::function<void()> tick_;
  absl::Mutex mu_;
  absl::Duration period_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace glint
