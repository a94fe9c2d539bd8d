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
            Observe(read_epoch_());  // a read of the database, outside the lock
            checking_ = false;
        }
    }
    std::lock_guard lock(mu_);
    return generation_;
}

LookupCache::Deferred LookupCache::BeginDeferred() {
    if (recheck_.count() == 0) {
        std::lock_guard lock(mu_);
        if (epoch_) return Deferred{generation_, epoch_};
    }
    return Deferred{Begin(), std::nullopt};
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
    return FindIn(credentials_, key);
}

void LookupCache::PutCredentials(const std::string& key, const PartnerCredentials& value, std::uint64_t generation) {
    PutIn(credentials_, key, value, generation);
}

std::optional<Automation> LookupCache::FindAutomation(const std::string& key) { return FindIn(automations_, key); }

void LookupCache::PutAutomation(const std::string& key, const Automation& value, std::uint64_t generation) {
    PutIn(automations_, key, value, generation);
}

template <typename Value>
std::optional<Value> LookupCache::FindIn(const std::unordered_map<std::string, Value>& map, const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = map.find(key);
    if (it == map.end()) return std::nullopt;
    return it->second;
}

template <typename Value>
void LookupCache::PutIn(std::unordered_map<std::string, Value>& map, const std::string& key, const Value& value,
                        std::uint64_t generation) {
    std::lock_guard lock(mu_);
    if (generation != generation_ || !epoch_) return;
    if (map.size() >= kMaxEntries) map.clear();
    map.insert_or_assign(key, value);
}

void LookupCache::Invalidate() {
    std::lock_guard lock(mu_);
    ClearLocked();
    // The change bumped the database's epoch: with a check at every lookup, the next one reads it (rather than
    // defer its check to a statement that would find the values it kept meanwhile out of date).
    if (recheck_.count() == 0) epoch_.reset();
}

void LookupCache::ClearLocked() {
    ++generation_;
    credentials_.clear();
    automations_.clear();
}

}  // namespace weft::sql
