#include "jobs/definition_cache.h"

namespace weft::jobs {

Result<std::shared_ptr<const engine::Definition>> DefinitionCache::Get(std::string_view text) {
    const std::string key(text);
    {
        std::lock_guard lock(mu_);
        if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    }
    auto def = engine::ParseDefinitionText(text);
    if (!def) return def;
    std::lock_guard lock(mu_);
    if (entries_.size() >= capacity_) entries_.clear();  // simple and bounded; a miss costs one parse
    entries_.emplace(key, *def);
    return def;
}

}  // namespace weft::jobs
