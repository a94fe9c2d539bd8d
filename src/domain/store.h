#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/entities.h"

namespace weft {

// Changes to an account; unset fields are left as they are.
struct AccountPatch {
    std::optional<std::string> externalid;
    std::optional<std::string> name;
    std::optional<bool> expired;
    Micros now = 0;
};

struct UserPatch {
    std::optional<std::optional<std::string>> externalid;
    std::optional<std::optional<std::string>> name;
    std::optional<std::optional<std::string>> email;
    std::optional<std::optional<std::string>> locale;
    Micros now = 0;
};

// A partner and its active key hashes, as needed to authenticate one request, and the account the request
// addresses when it names one (looked up in the same snapshot: one read transaction per API call).
struct PartnerCredentials {
    Partner partner;
    std::vector<std::string> active_key_hashes;
    std::optional<Account> account;  // set when an account key was given and that account exists
};

// A run with its whole block log, read in one snapshot (signed export downloads).
struct RunExport {
    Run run;
    std::vector<std::string> logs;
};

struct RunFilter {
    bool finished_only = false;
    std::optional<std::string> status;
    std::optional<Micros> created_gt, created_gte, created_lt, created_lte;
};

// A queued run claimed by a worker, with what it needs to execute.
struct ClaimedRun {
    Run run;
    Automation automation;
    Account account;
};

// The outcome of a run, written once when it ends.
struct RunOutcome {
    std::string status;
    std::optional<std::string> output;
    std::optional<std::string> error;
    std::optional<std::string> response;
    Micros stoptime = 0;
    std::vector<std::string> logs;  // the last block log entries, written in the same transaction
};

// An automation with the account it belongs to.
struct AccountAutomation {
    Automation automation;
    Account account;
};

enum class FireOutcome { kFired, kSkippedOverlap, kQueueFull, kStale, kAdvanced };
struct FireResult {
    FireOutcome outcome = FireOutcome::kStale;
    std::optional<Run> run;
};

// The storage port. Implementations: SQLite (embedded default) and PostgreSQL (scale-out).
//
// Every method is blocking and thread-safe: callers run it on the blocking pool, never on an I/O thread.
// Every method about partner-owned data takes the PartnerId and must only ever see that partner's rows;
// another partner's object is reported as not found. Guids and timestamps are chosen by the caller
// (services own the clock and the id generator), so the store stays deterministic.
class Store {
  public:
    virtual ~Store() = default;

    // Health: the database answers and the schema is current.
    virtual Status Ping() = 0;

    // --- Partners and keys (operator CLI and authentication) ---
    virtual Result<Partner> CreatePartner(const Partner& partner) = 0;
    virtual Result<Partner> UpdatePartnerLimits(PartnerId app_id, const PartnerLimits& limits, Micros now) = 0;
    virtual Result<Partner> GetPartner(PartnerId app_id) = 0;
    virtual Result<std::vector<Partner>> ListPartners() = 0;
    virtual Result<ApiKey> AddApiKey(const ApiKey& key) = 0;
    virtual Status RevokeApiKey(PartnerId app_id, std::int64_t key_id, Micros now) = 0;
    virtual Result<std::vector<ApiKey>> ListApiKeys(PartnerId app_id) = 0;
    // `account_key` (guid or externalid) is looked up among this partner's accounts only.
    virtual Result<PartnerCredentials> GetPartnerCredentials(PartnerId app_id,
                                                             std::optional<std::string_view> account_key) = 0;

    // --- Accounts ---
    // Creates the account and, when given, its first user, in one transaction. Duplicate externalid: conflict.
    virtual Result<Account> CreateAccount(const Account& account, const std::optional<User>& first_user) = 0;
    // By guid first, then by externalid.
    virtual Result<Account> FindAccount(PartnerId partner, std::string_view guid_or_externalid) = 0;
    virtual Result<Page<Account>> ListAccounts(PartnerId partner, const AccountFilter& filter,
                                               const PageRequest& page) = 0;
    virtual Result<Account> UpdateAccount(PartnerId partner, std::int64_t account_id, const AccountPatch& patch) = 0;
    // Removes the account and everything in it.
    virtual Status DeleteAccount(PartnerId partner, std::int64_t account_id) = 0;

    // --- Users of an account ---
    virtual Result<User> CreateUser(PartnerId partner, const User& user) = 0;
    virtual Result<User> FindUser(PartnerId partner, std::int64_t account_id, std::string_view guid_or_externalid) = 0;
    virtual Result<Page<User>> ListUsers(PartnerId partner, std::int64_t account_id, const PageRequest& page) = 0;
    virtual Result<User> UpdateUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id,
                                    const UserPatch& patch) = 0;
    virtual Status DeleteUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id) = 0;

    // --- Automations of an account ---
    // Duplicate name in the account: conflict.
    virtual Result<Automation> CreateAutomation(PartnerId partner, const Automation& automation) = 0;
    // By guid first, then by exact name.
    virtual Result<Automation> FindAutomation(PartnerId partner, std::int64_t account_id,
                                              std::string_view guid_or_name) = 0;
    virtual Result<Page<Automation>> ListAutomations(PartnerId partner, std::int64_t account_id,
                                                     const PageRequest& page) = 0;
    // Writes every field of `automation` (found by its id within the account).
    virtual Result<Automation> SaveAutomation(PartnerId partner, const Automation& automation) = 0;
    // Automations of any partner whose guid, or else name, is `key` (triggered URLs carry no partner; the
    // execution token decides which one, if any, is meant).
    virtual Result<std::vector<AccountAutomation>> FindAutomationsByKey(std::string_view key) = 0;
    // Removes the automation with its runs; its queued runs are cancelled with it.
    virtual Status DeleteAutomation(PartnerId partner, std::int64_t account_id, std::int64_t automation_id) = 0;

    // --- Schedules ---
    // Scheduled, available automations of non-expired accounts whose next tick is at or before `now`.
    virtual Result<std::vector<AccountAutomation>> DueSchedules(Micros now, int limit) = 0;
    // In one transaction: when the automation's next tick is still `tick` (else kStale: fired elsewhere), move
    // it to `next`, and queue `run` unless the automation's previous scheduled run is still queued or running
    // (kSkippedOverlap) or the account's queue is full (kQueueFull). Without a run the tick is only advanced.
    virtual Result<FireResult> FireSchedule(std::int64_t automation_id, Micros tick, std::optional<Micros> next,
                                            const std::optional<Run>& run, int queue_cap) = 0;

    // --- Runs and the queue ---
    // Creates the run as `queued` in the transaction that checks the account's queue cap: it is durable
    // when this returns, or nothing was created (queue_full). With an idempotency key already used on the
    // automation since `idempotent_since`, returns that earlier run instead.
    virtual Result<Run> EnqueueRun(PartnerId partner, const Run& run, int queue_cap, Micros idempotent_since) = 0;
    virtual Result<Run> FindRun(PartnerId partner, std::int64_t automation_id, std::string_view guid) = 0;
    virtual Result<Run> GetRunById(std::int64_t run_id) = 0;
    virtual Result<Page<Run>> ListRuns(PartnerId partner, std::int64_t automation_id, const RunFilter& filter,
                                       const PageRequest& page) = 0;
    // Queued runs, oldest first, of accounts with fewer than their partner's concurrency running, claimed
    // for `owner` until `lease_until`. At most `max` in all.
    virtual Result<std::vector<ClaimedRun>> ClaimRuns(const std::string& owner, int max, Micros now,
                                                      Micros lease_until) = 0;
    // Claims this one queued run for `owner` whatever its account's running count: a sync sub-run borrowing the
    // slot of the parent that waits for it. Empty when the run is no longer queued (another worker has it).
    virtual Result<std::optional<ClaimedRun>> ClaimRun(std::int64_t run_id, const std::string& owner, Micros now,
                                                       Micros lease_until) = 0;
    virtual Status RenewLeases(const std::string& owner, const std::vector<std::int64_t>& run_ids,
                               Micros lease_until) = 0;
    // Runs whose lease lapsed go back to the queue with attempt + 1, or fail ("worker lost") after
    // `max_attempts`. Returns how many were touched.
    virtual Result<int> ReapExpiredLeases(Micros now, int max_attempts) = 0;
    virtual Status AppendRunLogs(std::int64_t run_id, const std::vector<std::string>& entries) = 0;
    virtual Result<Page<std::string>> ListRunLogs(PartnerId partner, std::int64_t run_id, const PageRequest& page) = 0;
    // Ends a run (only while it is still running or must stop); sets the automation's last_run_at.
    virtual Result<Run> FinishRun(std::int64_t run_id, const RunOutcome& outcome) = 0;
    // queued -> stopped at once; running -> must stop. Returns the run as it now is.
    virtual Result<Run> RequestRunStop(PartnerId partner, std::int64_t run_id, Micros now) = 0;
    // Whether a stop was requested for a running run (polled by workers at block boundaries).
    virtual Result<bool> StopRequested(std::int64_t run_id) = 0;
    // The run with this guid and its whole log, whatever its partner (the caller has checked a signed link).
    virtual Result<RunExport> ExportRun(std::string_view guid) = 0;
    // Queued, running and must-stop runs of an account: what deleting the account cancels or stops.
    virtual Result<std::vector<Run>> ListActiveRuns(PartnerId partner, std::int64_t account_id) = 0;
    // Retention: deletes at most `batch` ended runs (with their logs) that stopped before `before`, oldest
    // first. Returns how many it deleted.
    virtual Result<int> PruneRuns(Micros before, int batch) = 0;

    // --- Server-wide secrets ---
    // The secret called `name`, created as `fresh` when there is none yet (the first writer wins, so every
    // process sharing the database agrees on it).
    virtual Result<std::string> ServerSecret(std::string_view name, std::string_view fresh, Micros now) = 0;
};

}  // namespace weft
