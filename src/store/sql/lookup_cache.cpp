#include "store/sql/lookup_cache.h"

namespace weft::sql {

LookupCache::LookupCache(std::function<Result<std::int64_t>()> read_epoch, std::chrono::milliseconds recheck,
                         std::function<TimePoint()> now)
    : read_epoch_(std::move(read_epoch)), recheck_(recheck), now_(std::move(now)) {}

std::uint64_t LookupCache::Begin() {
    if (recheck_.count() == 0) {
        EpochRead read;
        epoch_reads_.Submit(read, [this](std::vector<EpochRead*>& batch) {
            auto epoch = read_epoch_();
            for (EpochRead* r : batch) {
                r->epoch = epoch;
                r->done = true;
            }
        });
        Observe(*read.epoch);
    } else {
        const auto now = now_().time_since_epoch().count();
        // One caller rereads the epoch; the others go on with the values as they are meanwhile.
        if (now >= next_check_.load(std::memory_order_relaxed) && !checking_.exchange(true)) {
            next_check_ = now + std::chrono::duration_cast<TimePoint::duration>(recheck_).count();
            CheckEpoch();
            checking_ = false;
        }
    }
    std::lock_guard lock(mu_);
    return generation_;
}

void LookupCache::CheckEpoch() {
    Observe(read_epoch_());  // outside the lock: a read of the database
}

void LookupCache::Observe(const Result<std::int64_t>& epoch) {
    const std::optional<std::int64_t> now = epoch ? std::optional<std::int64_t>(*epoch) : std::nullopt;
    std::lock_guard lock(mu_);
    // Changed, or unknown (the database did not answer): nothing kept is trusted, nor kept until it is known.
    if (!now || now != epoch_) {
        ClearLocked();
        epoch_ = now;
    }
}

bool LookupCache::Unchanged(std::uint64_t generation) {
    std::lock_guard lock(mu_);
    return generation == generation_ && epoch_.has_value();
}

std::optional<PartnerCredentials> LookupCache::FindCredentials(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = credentials_.find(key);
    if (it == credentials_.end()) return std::nullopt;
    return it->second;
}

void LookupCache::PutCredentials(const std::string& key, const PartnerCredentials& value, std::uint64_t generation) {
    std::lock_guard lock(mu_);
    if (generation != generation_ || !epoch_) return;
    if (credentials_.size() >= kMaxEntries) credentials_.clear();
    credentials_.insert_or_assign(key, value);
}

std::optional<Automation> LookupCache::FindAutomation(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = automations_.find(key);
    if (it == automations_.end()) return std::nullopt;
    return it->second;
}

void LookupCache::PutAutomation(const std::string& key, const Automation& value, std::uint64_t generation) {
    std::lock_guard lock(mu_);
    if (generation != generation_ || !epoch_) return;
    if (automations_.size() >= kMaxEntries) automations_.clear();
    automations_.insert_or_assign(key, value);
}

void LookupCache::Invalidate() {
    std::lock_guard lock(mu_);
    ClearLocked();
}

void LookupCache::ClearLocked() {
    ++generation_;
    credentials_.clear();
    automations_.clear();
}

}  // namespace weft::sql
