#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/result.h"
#include "domain/store.h"

namespace weft::sql {

// The two lookups every run through the API makes (a partner's credentials with the addressed account; the
// automation to run), kept in memory: each lookup then reads one counter instead of the rows and their joins.
//
// The counter is `config_epoch` (migration 11, SQLite), which triggers bump with every insert, update or delete
// of a partner, API key, account or automation, whoever makes it (this process, or a CLI command on the same
// file). Every lookup reads it first, and a new value empties the cache, so what is returned is what the
// database held when the lookup began: nothing is ever stale.
//
// A value read from the database is kept only when the cache was not emptied since its lookup began (the
// generation Begin handed out), so a read that raced a change cannot put the old value back.
class LookupCache {
  public:
    // `read_epoch`: the database's config_epoch now.
    explicit LookupCache(std::function<Result<std::int64_t>()> read_epoch) : read_epoch_(std::move(read_epoch)) {}

    // The start of a lookup: reads the epoch (emptying the cache when it moved) and returns the generation to
    // hand to Put*.
    std::uint64_t Begin();

    // True while the cache holds what it held when Begin handed out `generation` (nothing emptied it since): a
    // lookup made for the same caller, after that Begin, may skip its own.
    bool Unchanged(std::uint64_t generation);

    std::optional<PartnerCredentials> FindCredentials(const std::string& key);
    void PutCredentials(const std::string& key, const PartnerCredentials& value, std::uint64_t generation);
    std::optional<Automation> FindAutomation(const std::string& key);
    void PutAutomation(const std::string& key, const Automation& value, std::uint64_t generation);

    // Each map holds at most this many values; one that would grow past it starts again empty (a bound on
    // memory whatever keys callers name).
    static constexpr std::size_t kMaxEntries = 10000;

  private:
    std::function<Result<std::int64_t>()> read_epoch_;
    std::mutex mu_;
    std::uint64_t generation_ = 0;
    std::optional<std::int64_t> epoch_;  // the epoch the cached values belong to; unknown: nothing is kept
    std::unordered_map<std::string, PartnerCredentials> credentials_;
    std::unordered_map<std::string, Automation> automations_;
};

}  // namespace weft::sql
