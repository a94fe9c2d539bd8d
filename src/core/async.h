#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace weft {

// The asynchronous facilities layers other than http need (timers, the blocking pool), without Asio.
// The http layer implements it on its io_context.
class AsyncRuntime {
  public:
    virtual ~AsyncRuntime() = default;
    // Runs fn on the blocking pool (work that may touch the database).
    virtual void Post(std::function<void()> fn) = 0;
    // Runs fn on the blocking pool after `delay`, unless the returned handle's Cancel() came first.
    class Timer {
      public:
        virtual ~Timer() = default;
        // Fires now instead of later (no-op when already fired).
        virtual void FireNow() = 0;
        virtual void Cancel() = 0;
    };
    virtual std::shared_ptr<Timer> After(std::chrono::microseconds delay, std::function<void()> fn) = 0;
};

}  // namespace weft
