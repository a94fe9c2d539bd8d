#include "core/metrics.h"

#include <cstdio>

namespace weft {

void Histogram::Observe(double seconds) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            counts_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_micros_.fetch_add(static_cast<std::int64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::Render(std::string& out, const std::string& name, const std::string& labels) const {
    const std::string sep = labels.empty() ? "" : ",";
    std::int64_t cumulative = 0;
    char le[32];
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += counts_[i].load(std::memory_order_relaxed);
        std::snprintf(le, sizeof le, "%g", kBuckets[i]);
        out += name + "_bucket{" + labels + sep + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    const auto count = count_.load(std::memory_order_relaxed);
    out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(count) + "\n";
    char sum[48];
    std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6);
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += name + "_sum" + braces + " " + sum + "\n";
    out += name + "_count" + braces + " " + std::to_string(count) + "\n";
}

MetricsRegistry::Family& MetricsRegistry::FamilyLocked(const std::string& name, const char* type) {
    auto& f = families_[name];
    if (f.type.empty()) f.type = type;
    return f;
}

void MetricsRegistry::Describe(const std::string& name, const std::string& type, const std::string& help) {
    std::lock_guard lock(mu_);
    auto& f = families_[name];
    f.type = type;
    f.help = help;
}

Counter& MetricsRegistry::CounterFor(const std::string& name, const std::string& labels) {
    std::lock_guard lock(mu_);
    auto& slot = FamilyLocked(name, "counter").counters[labels];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Counter& MetricsRegistry::GaugeFor(const std::string& name, const std::string& labels) {
    std::lock_guard lock(mu_);
    auto& slot = FamilyLocked(name, "gauge").counters[labels];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Histogram& MetricsRegistry::HistogramFor(const std::string& name, const std::string& labels) {
    std::lock_guard lock(mu_);
    auto& slot = FamilyLocked(name, "histogram").histograms[labels];
    if (!slot) slot = std::make_unique<Histogram>();
    return *slot;
}

std::string MetricsRegistry::Render() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [name, f] : families_) {
        if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
        out += "# TYPE " + name + " " + f.type + "\n";
        for (const auto& [labels, c] : f.counters) {
            out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(c->Value()) + "\n";
        }
        for (const auto& [labels, h] : f.histograms) h->Render(out, name, labels);
    }
    return out;
}

std::string LabelValue(const std::string& v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace weft
