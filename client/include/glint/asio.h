// Awaiting Glint references from a driver's own Boost.Asio code: an Asio
// asynchronous operation, so it works with any completion token, e.g.
//   boost::asio::awaitable<void> Work(glint::ObjectRef<int> ref) {
//     int v = co_await glint::AsyncGet(ref, boost::asio::use_awaitable);
//   }
// The handler runs on its associated executor (the caller's io_context);
// errors come as the exception_ptr (with use_awaitable: thrown by co_await).
// Include it only where Asio is wanted: it pulls in Boost.Asio.
#pragma once
#include <utility>  // Boost 1.74's asio needs it before its own headers

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <exception>
#include <memory>

#include "glint/object_ref.h"

namespace glint {

template <typename T, typename CompletionToken>
auto AsyncGet(const ObjectRef<T>& ref, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, T)>(
      [ref](auto handler) {
        auto ex = boost::asio::get_associated_executor(handler);
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        ref.OnReady([ref, h, ex] {
          boost::asio::post(ex, [ref, h] {
            T value{};
            std::exception_ptr error;
            try {
              value = ref.Get(std::chrono::milliseconds(0));
            } catch (...) {
              error = std::current_exception();
            }
            (*h)(error, std::move(value));
          });
        });
      },
      token);
}

}  // namespace glint
