// The registry of remote functions, actor factories and methods (internal).
// GLINT_REMOTE fills it at static-initialisation time in every process that
// links the user's code: the driver (to name what it calls) and the workers
// (to run it).
#pragma once
#include "glint/internal/export.h"
#include <cstring>
#include <exception>
#include <typeinfo>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "glint/async.h"
#include "glint/generator.h"
#include "glint/internal/serializer.h"

namespace glint::internal {

using Args = std::vector<Bytes>;  // one msgpack value per parameter
using FunctionInvoker = std::function<std::string(const Args&)>;
using FactoryInvoker = std::function<void*(const Args&)>;
using MethodInvoker = std::function<std::string(void*, const Args&)>;
// An async method's result: its bytes (or error) and the references packed
// into it (held; see EscapeCollector).
using AsyncDone = std::function<void(std::string, std::exception_ptr, std::vector<RefData>)>;
// Where a call's result of `size` bytes, which `write` packs, may go
// instead of its reply: true if it went there (the node's store).
using ResultOffer = std::function<bool(size_t size, const std::function<void(char*)>& write)>;
// A coroutine method: starts it; `done` gets the packed result or the
// error (a result `offer` took leaves the bytes empty).
using AsyncMethodInvoker = std::function<void(void*, const Args&, ResultOffer, AsyncDone)>;
// A generator (a task's when `self` is null, else a method's): runs it,
// sending each item to the sink; returns when it ended or must stop; throws
// what its body threw.
using GeneratorInvoker = std::function<void(void* self, const Args&, ItemSink&)>;
// An async actor's generator method: starts it on the loop; `done` gets
// what its body threw (or null) once it ended or stopped.
using AsyncGeneratorInvoker = std::function<void(void* self, const Args&, ItemSink*, std::function<void(std::exception_ptr)> done)>;

// `class_key` (typeid name of the actor class) ties methods to factories, so
// a worker knows whether the actor it builds is async.
GLINT_EXPORT void RegisterFunction(const std::string& name, const void* key, FunctionInvoker f);
GLINT_EXPORT void RegisterFactory(const std::string& name, const void* key, FactoryInvoker f, const char* class_key);
GLINT_EXPORT void RegisterMethod(const std::string& name, const std::string& key, MethodInvoker f, const char* class_key);
GLINT_EXPORT void RegisterAsyncMethod(const std::string& name, const std::string& key, AsyncMethodInvoker f,
                         const char* class_key);
// A generator function, or a sync/threaded actor's generator method.
GLINT_EXPORT void RegisterGeneratorFunction(const std::string& name, const void* key, GeneratorInvoker f);
GLINT_EXPORT void RegisterGeneratorMethod(const std::string& name, const std::string& key, GeneratorInvoker f);
GLINT_EXPORT void RegisterAsyncGenerator(const std::string& name, const std::string& key, AsyncGeneratorInvoker f,
                                         const char* class_key);
// The registered name of a function/factory/method; throws if unregistered.
GLINT_EXPORT const std::string& NameOfFunction(const void* key);
GLINT_EXPORT const std::string& NameOfMethod(const std::string& key);
// Splits "a, &B::c" into clean names ("a", "B::c").
GLINT_EXPORT std::vector<std::string> SplitNames(const char* names);
[[noreturn]] GLINT_EXPORT void ThrowArity(size_t want, size_t got);

template <typename M>
std::string MemberKey(M m) {
  std::string k(sizeof(M), '\0');
  std::memcpy(k.data(), &m, sizeof(M));
  return k;
}

// Passes an unpacked argument to a parameter of type A: a reference to it
// when A is an lvalue reference (the value lives for the call), else moved.
template <typename A, typename V>
decltype(auto) PassAs(V& v) {
  if constexpr (std::is_lvalue_reference_v<A>) {
    return (v);
  } else {
    return std::move(v);
  }
}

// Unpacks `args` as the parameters A... and calls `call` with them.
template <typename... A, typename F>
decltype(auto) CallWithArgs(const Args& args, F&& call) {
  if (args.size() != sizeof...(A)) ThrowArity(sizeof...(A), args.size());
  return [&]<size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
    std::tuple<std::decay_t<A>...> values{Unpack<std::decay_t<A>>(args[I], "an argument")...};
    return call(PassAs<A>(std::get<I>(values))...);
  }(std::index_sequence_for<A...>{});
}

// Packs a value that may go to the node's store: measures it, offers it
// (`offer(size, write)`), and packs it into the string only when the offer
// is not taken (a taken one was packed by `write` into its place there, and
// the string is empty).
template <typename T, typename Offer>
std::string PackOrOffer(const T& value, Offer&& offer) {
  if constexpr (!kPackable<T>) {
    return Pack(value);  // its one clear error
  } else {
    size_t size;
    {
      EscapeCollector sizing;  // the references inside are collected when it is packed, not here
      size = PackedSize(value);
    }
    bool stored = offer(size, [&value, size](char* dst) {
      BufferSink sink{dst, dst + size};
      msgpack::pack(sink, value);
    });
    return stored ? std::string() : Pack(value);
  }
}

// A sync call's result: one big enough for the node's store goes straight there.
template <typename T>
std::string PackResult(const T& value) {
  return PackOrOffer(value, StoreCallResult);
}

// Calls with the unpacked arguments and packs the result (while the
// arguments live: it may refer to one).
template <typename R, typename F, typename... A>
std::string InvokeWith(F&& call, const Args& args, std::tuple<A...>*) {
  return CallWithArgs<A...>(args, [&](auto&&... a) {
    if constexpr (std::is_void_v<R>) {
      call(std::forward<decltype(a)>(a)...);
      return Pack(msgpack::type::nil_t());
    } else {
      return PackResult(call(std::forward<decltype(a)>(a)...));
    }
  });
}

// One item a generator yielded, packed, with the references inside it (held).
struct PackedItem {
  std::string data;
  std::vector<RefData> refs;
};
// A big one goes straight where `sink` stores it.
template <typename T>
PackedItem PackItem(T& value, ItemSink& sink) {
  EscapeCollector contained(/*hold=*/true);
  PackedItem item{PackOrOffer(value, [&sink](size_t size, const std::function<void(char*)>& write) {
                    return sink.StoreNext(size, write);
                  }),
                  {}};
  item.refs = std::exchange(contained.refs, {});
  return item;
}

// Runs a sync generator to its end, or until the sink says stop.
template <typename T>
void DrainGenerator(Generator<T> g, ItemSink& sink) {
  while (g.Next()) {
    auto item = PackItem(g.Value(), sink);
    if (!sink.Emit(std::move(item.data), std::move(item.refs))) return;  // `g` is destroyed where it stopped
  }
}

template <typename R, typename... A>
void RegisterOne(const std::string& name, R (*f)(A...)) {
  const void* key = reinterpret_cast<const void*>(f);
  if constexpr (IsAsyncGenerator<R>::value) {
    static_assert(!IsAsyncGenerator<R>::value, "an AsyncGenerator runs on an async actor: make it a method");
  } else if constexpr (IsGenerator<R>::value) {
    RegisterGeneratorFunction(
        name, key,
        [f](void*, const Args& args, ItemSink& sink) {
          CallWithArgs<A...>(args, [&](auto&&... a) { DrainGenerator(f(std::forward<decltype(a)>(a)...), sink); });
        });
  } else if constexpr (std::is_pointer_v<R>) {
    RegisterFactory(
        name, key,
        [f](const Args& args) -> void* { return static_cast<void*>(CallWithArgs<A...>(args, f)); },
        typeid(std::remove_pointer_t<R>).name());
  } else {
    RegisterFunction(name, key, [f](const Args& args) { return InvokeWith<R>(f, args, (std::tuple<A...>*)nullptr); });
  }
}

// Registers a method of class C (const or not) called through `m`.
// Runs an async generator on the actor's loop: each item goes to the sink;
// the body resumes on the loop when the sink lets it go on.
template <typename T>
void StartAsyncGenerator(AsyncGenerator<T>* gen, ItemSink* sink, std::function<void(std::exception_ptr)> done) {
  gen->SetOnStep([gen, sink, done](bool item) {
    if (!item) {  // the body ended (or threw)
      std::exception_ptr error = gen->Error();
      delete gen;
      done(error);
      return false;
    }
    PackedItem packed;
    try {
      packed = PackItem(gen->Value(), *sink);
    } catch (...) {
      auto error = std::current_exception();
      PostToActorLoop([gen, done, error] {
        delete gen;
        done(error);
      });
      return false;
    }
    // Later, the body goes on (or is destroyed at its co_yield) on the loop, within its call.
    auto go_on = InCurrentCall([gen] { gen->Resume(); });
    auto stop = InCurrentCall([gen, done] {
      delete gen;
      done(nullptr);
    });
    return sink->EmitAsync(std::move(packed.data), std::move(packed.refs),
                           [go_on, stop](bool go) { go ? go_on() : stop(); });
  });
  gen->Resume();
}

template <typename R, typename C, typename M, typename... A>
void RegisterMember(const std::string& name, M m, std::tuple<A...>*) {
  if constexpr (IsAsyncGenerator<R>::value) {
    static_assert(!(std::is_reference_v<A> || ...),
                  "a coroutine method must take its parameters by value (they live in its frame)");
    RegisterAsyncGenerator(
        name, MemberKey(m),
        [m](void* self, const Args& args, ItemSink* sink, std::function<void(std::exception_ptr)> done) {
          if (args.size() != sizeof...(A)) ThrowArity(sizeof...(A), args.size());
          auto* gen = [&]<size_t... I>(std::index_sequence<I...>) {
            return new R((static_cast<C*>(self)->*m)(Unpack<std::decay_t<A>>(args[I], "an argument")...));
          }(std::index_sequence_for<A...>{});
          StartAsyncGenerator(gen, sink, std::move(done));
        },
        typeid(C).name());
  } else if constexpr (IsGenerator<R>::value) {
    RegisterGeneratorMethod(
        name, MemberKey(m),
        [m](void* self, const Args& args, ItemSink& sink) {
          CallWithArgs<A...>(args, [&](auto&&... a) {
            DrainGenerator((static_cast<C*>(self)->*m)(std::forward<decltype(a)>(a)...), sink);
          });
        });
  } else if constexpr (IsAsync<R>::value) {
    static_assert(!(std::is_reference_v<A> || ...),
                  "a coroutine method must take its parameters by value (they live in its frame)");
    RegisterAsyncMethod(
        name, MemberKey(m),
        [m](void* self, const Args& args, ResultOffer offer, AsyncDone done) {
          if (args.size() != sizeof...(A)) ThrowArity(sizeof...(A), args.size());
          auto* co = [&]<size_t... I>(std::index_sequence<I...>) {
            return new R((static_cast<C*>(self)->*m)(Unpack<std::decay_t<A>>(args[I], "an argument")...));
          }(std::index_sequence_for<A...>{});
          co->Start([co, offer = std::move(offer), done] {
            std::string data;
            std::exception_ptr error;
            EscapeCollector contained(/*hold=*/true);
            try {
              if constexpr (std::is_void_v<typename R::ValueType>) {
                co->Result();
                data = Pack(msgpack::type::nil_t());
              } else {
                data = PackOrOffer(co->Result(), offer);  // a big one straight into the store
              }
            } catch (...) {
              error = std::current_exception();
            }
            delete co;
            done(std::move(data), error, std::exchange(contained.refs, {}));
          });
        },
        typeid(C).name());
  } else {
    RegisterMethod(
        name, MemberKey(m),
        [m](void* self, const Args& args) {
          auto call = [&](auto&&... a) -> R {
            return (static_cast<C*>(self)->*m)(std::forward<decltype(a)>(a)...);
          };
          return InvokeWith<R>(call, args, (std::tuple<A...>*)nullptr);
        },
        typeid(C).name());
  }
}

template <typename R, typename C, typename... A>
void RegisterOne(const std::string& name, R (C::*m)(A...)) {
  RegisterMember<R, C>(name, m, (std::tuple<A...>*)nullptr);
}

template <typename R, typename C, typename... A>
void RegisterOne(const std::string& name, R (C::*m)(A...) const) {
  RegisterMember<R, C>(name, m, (std::tuple<A...>*)nullptr);
}

// Declares `group` the default concurrency group of the named methods.
GLINT_EXPORT void RegisterMethodGroup(const std::string& group, const std::vector<std::string>& methods);

template <typename... M>
bool RegisterGroup(const char* group, const char* names, M...) {
  RegisterMethodGroup(group, SplitNames(names));
  return true;
}

template <typename... F>
bool RegisterAll(const char* names, F... fs) {
  auto list = SplitNames(names);
  size_t i = 0;
  (RegisterOne(list.at(i++), fs), ...);
  return true;
}

}  // namespace glint::internal

#define GLINT_CONCAT_INNER(a, b) a##b
#define GLINT_CONCAT(a, b) GLINT_CONCAT_INNER(a, b)
// Registers remote functions, actor factories (functions returning T*) and
// actor methods under stable names (their spelling here), e.g.
//   GLINT_REMOTE(Plus, Counter::Create, &Counter::Increment);
#define GLINT_REMOTE(...)                                                        \
  [[maybe_unused]] static const bool GLINT_CONCAT(glint_registered_, __LINE__) = \
      ::glint::internal::RegisterAll(#__VA_ARGS__, __VA_ARGS__)

// Puts actor methods in a concurrency group by default, e.g.
//   GLINT_CONCURRENCY_GROUP("io", &Crawler::Fetch, &Crawler::Store);
#define GLINT_CONCURRENCY_GROUP(group, ...)                                 \
  [[maybe_unused]] static const bool GLINT_CONCAT(glint_group_, __LINE__) = \
      ::glint::internal::RegisterGroup(group, #__VA_ARGS__, __VA_ARGS__)
