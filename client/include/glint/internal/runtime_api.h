// The non-template boundary between the public API templates and libglint's
// runtime (internal). Everything here is implemented in libglint.
#pragma once
#include "glint/internal/export.h"
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace glint::internal {

// A reference as the API holds it: object id and its owner ("ip:port/worker").
struct RefData {
  std::string id;
  std::string owner;
};

// An object's msgpack bytes, in this process's memory or mapped from the
// node's object store; `keep` holds whatever owns them (null: not owned).
struct Bytes {
  Bytes() = default;
  explicit Bytes(std::string s) {
    auto owned = std::make_shared<std::string>(std::move(s));
    data = owned->data();
    size = owned->size();
    keep = std::move(owned);
  }
  Bytes(std::shared_ptr<const void> k, const char* d, size_t n) : keep(std::move(k)), data(d), size(n) {}
  std::shared_ptr<const void> keep;
  const char* data = nullptr;
  size_t size = 0;
};

// One argument of a call: a msgpack value, or a reference the executing side
// resolves to its value before the call.
struct WireArg {
  bool is_ref = false;
  std::string data;  // the value, or the object id
  std::string owner;
  std::vector<RefData> nested;  // references packed inside the value
};

// Work placed in bundle `bundle_index` (-1: any) of placement group
// `group_id` (empty: none), whose bundles are `bundles`.
struct Placement {
  std::string group_id;
  int bundle_index = -1;
  std::vector<std::map<std::string, double>> bundles;
  bool capture_child_tasks = false;  // the calls it makes go to the group too
};

struct TaskOptions {
  std::string name;
  std::map<std::string, double> resources;
  int max_retries = 3;
  bool streaming = false;          // a generator: items come back one by one
  int generator_backpressure = 0;  // items produced but not consumed at most (0: no limit)
  Placement placement;
};

struct ActorCallOptions {
  std::string concurrency_group;
  bool streaming = false;
  int generator_backpressure = 0;
};

struct ActorOptions {
  std::string class_name;
  std::string name;
  std::string namespace_;
  bool detached = false;
  bool get_if_exists = false;
  int max_restarts = 0;
  int max_task_retries = 0;
  int max_concurrency = 0;  // 0: 1 for sync actors, 1000 for async ones
  std::map<std::string, int> concurrency_groups;
  std::map<std::string, double> resources;
  Placement placement;
};

GLINT_EXPORT RefData SubmitTask(const std::string& function, std::vector<WireArg> args, const TaskOptions& opts);
// Returns the handle reference {actor id, owner}: the handles of a
// non-detached actor are counted as references owned by its creator, and the
// actor ends when none is left (no owner: a detached actor, not counted).
GLINT_EXPORT RefData CreateActor(const std::string& factory, std::vector<WireArg> args, const ActorOptions& opts);
// `actor`: the handle reference; the call holds it until it is done.
GLINT_EXPORT RefData SubmitActorTask(const RefData& actor, const std::string& method,
                                     std::vector<WireArg> args, const ActorCallOptions& opts);
// `nested`: references packed inside the value, kept alive as long as it is.
GLINT_EXPORT RefData PutObject(std::string data, std::vector<RefData> nested);
// Values of at least this many bytes go to the node's object store.
GLINT_EXPORT size_t InlineThreshold();
// Puts a `size`-byte value that `write` packs straight into the node's store.
GLINT_EXPORT RefData PutStoredObject(size_t size, const std::function<void(char*)>& write, std::vector<RefData> nested);
// Offers the result of the sync call running on this thread, `size` bytes
// that `write` packs, to go straight into the node's store; false when it
// goes inline instead (too small, or no such call: pack it as usual).
GLINT_EXPORT bool StoreCallResult(size_t size, const std::function<void(char*)>& write);
// The object's msgpack bytes; throws the object's error, or GetTimeoutError
// after timeout_ms (< 0: no timeout).
GLINT_EXPORT Bytes GetObject(const RefData& ref, int64_t timeout_ms);
// The error a ready object holds, as an exception; null while it is not
// ready, or when it holds a value.
GLINT_EXPORT std::exception_ptr FailureOf(const RefData& ref);
// ready[i] for each ref; returns when num_returns are ready or at the timeout.
// With fetch_local, a stored object counts once a copy is on this node.
GLINT_EXPORT std::vector<bool> WaitObjects(const std::vector<RefData>& refs, int num_returns, int64_t timeout_ms,
                              bool fetch_local);
// The caller's side of a generator, named by its call's return object
// (what SubmitTask/SubmitActorTask returned for a streaming call).
// The next item, once it is there; nullopt at the end of the stream; throws
// GetTimeoutError after timeout_ms (< 0: no timeout).
GLINT_EXPORT std::optional<RefData> GeneratorNext(const RefData& gen, int64_t timeout_ms);
// Whether GeneratorNext would return at once.
GLINT_EXPORT bool GeneratorIsReady(const RefData& gen);
// Calls `fn` (on some runtime thread) once GeneratorNext would return at once.
GLINT_EXPORT void OnGeneratorReady(const RefData& gen, std::function<void()> fn);
// The consumer is gone: unconsumed items are freed, the producer stops.
GLINT_EXPORT void DropGenerator(const RefData& gen);
// Waits until `num_returns` of the references (ready: their value is here)
// and generators (ready: GeneratorNext would return at once) are ready, or
// timeout_ms passes; ready flags, references first.
GLINT_EXPORT std::vector<bool> WaitAny(const std::vector<RefData>& refs, const std::vector<RefData>& gens,
                                       int num_returns, int64_t timeout_ms);
// Cancels the call whose return object (or generator) is `ref`; see glint::Cancel.
GLINT_EXPORT void CancelCall(const RefData& ref, bool force, bool recursive);
GLINT_EXPORT std::optional<RefData> GetNamedActor(const std::string& name, const std::string& namespace_);
GLINT_EXPORT void KillActor(const std::string& actor_id, bool no_restart);
// Reference counting of ObjectRef copies in this process (no-ops before Init).
// The first copy of a reference owned elsewhere registers this process as a
// borrower with the owner; dropping the last one tells the owner.
GLINT_EXPORT void AddLocalRef(const std::string& id, const std::string& owner);
GLINT_EXPORT void RemoveLocalRef(const std::string& id, const std::string& owner);
// The reference is being serialized for another process: unless an
// EscapeCollector is active on this thread, the owner keeps the object for
// good (until it exits), since it cannot know when the copy is dropped.
GLINT_EXPORT void MarkEscaped(const std::string& id, const std::string& owner);

// While alive, references serialized on this thread are collected here
// instead (a call's arguments: the call holds them until it is done). With
// `hold`, each one also gets a local reference that whoever takes `refs`
// must drop (a returned value's references, which outlive their ObjectRefs);
// those still in `refs` when it goes are dropped then (their value was never
// made: its packing threw).
class GLINT_EXPORT EscapeCollector {
 public:
  explicit EscapeCollector(bool hold = false);
  ~EscapeCollector();
  EscapeCollector(const EscapeCollector&) = delete;
  EscapeCollector& operator=(const EscapeCollector&) = delete;
  bool hold() const { return hold_; }
  std::vector<RefData> refs;

 private:
  EscapeCollector* outer_;
  bool hold_;
};


}  // namespace glint::internal
