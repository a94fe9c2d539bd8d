#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft {

// Microseconds since the Unix epoch, UTC. The single time unit Weft stores and compares.
using Micros = std::int64_t;

// Injectable wall clock: production uses SystemClock; tests move an OffsetClock forward instead of sleeping.
class Clock {
  public:
    virtual ~Clock() = default;
    virtual Micros Now() const = 0;
};

class SystemClock final : public Clock {
  public:
    Micros Now() const override {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

// System time plus an adjustable offset. Enabled only by `weft serve --test-clock`, so black-box tests
// can make a rate-limit window slide or a schedule tick without waiting in real time.
class OffsetClock final : public Clock {
  public:
    Micros Now() const override { return system_.Now() + offset_.load(std::memory_order_relaxed); }
    void Advance(Micros by) { offset_.fetch_add(by, std::memory_order_relaxed); }
    Micros offset() const { return offset_.load(std::memory_order_relaxed); }

  private:
    SystemClock system_;
    std::atomic<Micros> offset_{0};
};

}  // namespace weft
