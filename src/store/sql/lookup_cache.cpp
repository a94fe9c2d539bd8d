#include "store/sql/lookup_cache.h"

namespace weft::sql {

std::uint64_t LookupCache::Begin() {
    auto epoch = read_epoch_();  // outside the lock: a read of the database
    std::lock_guard lock(mu_);
    const std::optional<std::int64_t> now = epoch ? std::optional<std::int64_t>(*epoch) : std::nullopt;
    // Changed, or unknown (the database did not answer): nothing cached is trusted, nor kept until it is known.
    if (!now || now != epoch_) {
        ++generation_;
        credentials_.clear();
        automations_.clear();
        epoch_ = now;
    }
    return generation_;
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

}  // namespace weft::sql
