// Gate: tells callers whether a component is still there, and lets its
// owner wait, before tearing it down, until none of them is inside (as
// Seastar's gate). Entering and leaving cost an atomic add each; only
// closing waits (on a condition, not a sleep).
//
//   if (auto pass = gate.TryEnter()) { ... use the component ... }
//   gate.Close(timeout);   // no new passes; waits for the ones out
//
// A closed gate can be opened again (Reopen) once it is empty, for a
// component that is made again (a runtime after Shutdown and Init).
// Thread-safe.
#pragma once
#include <atomic>
#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace glint {

class Gate {
 public:
  // One pass through the gate, held until destroyed; empty (false) when
  // the gate was closed.
  class Pass {
   public:
    Pass() = default;
    Pass(Pass&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    Pass& operator=(Pass&&) = delete;
    Pass(const Pass&) = delete;
    ~Pass() {
      if (gate_) gate_->Leave();
    }
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    friend class Gate;
    explicit Pass(Gate* g) : gate_(g) {}
    Gate* gate_ = nullptr;
  };

  Gate() = default;
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  Pass TryEnter() {
    inside_.fetch_add(1);
    if (closed_.load()) {
      Leave();
      return Pass();
    }
    return Pass(this);
  }
  // Refuses new passes and waits up to `timeout` until every pass is gone;
  // false if some are still out then.
  bool Close(absl::Duration timeout);
  // Opens a closed gate again (call only once Close returned true).
  void Reopen() { closed_.store(false); }

 private:
  void Leave();
  std::atomic<int64_t> inside_{0};
  std::atomic<bool> closed_{false};
  absl::Mutex mu_;  // for Close to wait on
};

}  // namespace glint
