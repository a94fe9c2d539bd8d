#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace weft {

// Prometheus text-format metrics. Small by design: counters and gauges with label values, and one latency
// histogram shape; every layer records into the registry main.cpp hands it.
class Counter {
  public:
    void Add(std::int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::int64_t Value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::int64_t> value_{0};
};

// Latency histogram in seconds with fixed buckets from 100 µs to 10 s.
class Histogram {
  public:
    static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                        0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   10.0};
    void Observe(double seconds);
    void Render(std::string& out, const std::string& name, const std::string& labels) const;

  private:
    std::array<std::atomic<std::int64_t>, kBuckets.size()> counts_{};
    std::atomic<std::int64_t> count_{0};
    std::atomic<std::int64_t> sum_micros_{0};
};

class MetricsRegistry {
  public:
    // A counter identified by metric name and a rendered label set (`route="/x",status="200"`). The returned
    // reference stays valid for the registry's lifetime; callers on hot paths keep it.
    Counter& CounterFor(const std::string& name, const std::string& labels = "");
    Counter& GaugeFor(const std::string& name, const std::string& labels = "");
    Histogram& HistogramFor(const std::string& name, const std::string& labels = "");
    void Describe(const std::string& name, const std::string& type, const std::string& help);

    std::string Render() const;

  private:
    struct Family {
        std::string type;
        std::string help;
        std::map<std::string, std::unique_ptr<Counter>> counters;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };
    Family& FamilyLocked(const std::string& name, const char* type);

    mutable std::mutex mu_;
    std::map<std::string, Family> families_;
};

// Escapes a label value for the text format.
std::string LabelValue(const std::string& v);

}  // namespace weft
