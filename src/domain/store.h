#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/connector_entities.h"
#include "domain/entities.h"
#include "domain/rate_limiter.h"

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
    // Opaque (0: none): hand it to FindAutomationToRun for the same call, which may then rely on the check of
    // freshness this lookup made (see sql::LookupCache).
    std::uint64_t lookup_token = 0;
    bool from_memory = false;  // kept in memory, not read by this lookup
    // With `defer_check` (GetPartnerCredentials): the config epoch the caller must confirm before relying on
    // these values (RateLimiter::AdmitConfirming); empty when this lookup made its own check.
    std::optional<std::int64_t> unconfirmed_epoch;
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

// A run that may start at once where it is submitted: when its account has fewer than `concurrency` runs
// running and none queued (which would go first), it is created running under this lease instead of queued,
// and the submitting process executes it without a claim. The count is exact: SQLite serializes writes, and on
// PostgreSQL both this and every claim count an account's running runs under its row lock.
struct StartHere {
    std::string owner;
    Micros lease_until = 0;
    int concurrency = 0;
};

// The outcome of a run, written once when it ends.
struct RunOutcome {
    std::string status;
    std::optional<std::string> output;
    std::optional<std::string> error;
    std::optional<std::string> response;
    Micros stoptime = 0;
    std::vector<std::string> logs;  // the last block log entries, written in the same transaction
    // The run as its worker claimed it, when the worker has it: the store then builds the ended run from it and
    // this outcome instead of reading the run back.
    const Run* claimed = nullptr;
    // The seq of the run's last log entry when its worker knows it (a first attempt, whose earlier entries it
    // wrote itself): the store need not look it up.
    std::optional<std::int64_t> last_seq;
    // The lease owner of the worker that ends it: the end of a run whose lapsed lease another worker has taken
    // since is not recorded (nothing: whoever holds it).
    std::optional<std::string> owner;
    // Whether callers waiting in other processes must hear of the end (PostgreSQL: a NOTIFY, which every
    // committing transaction that sends one takes a cluster-wide lock for). Not for a run started where it was
    // submitted (its caller waits in that process) nor for one no caller waits for (async API calls,
    // schedules); a caller that comes to wait for such a run anyway (a sync retry that its Idempotency-Key
    // joins to an async run) hears of its end by the listener's poll.
    bool announce = true;
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
    // True when the lookups a run call makes are answered from memory, or else from a local file, never waiting
    // for another process (SQLite): run calls may then begin on the I/O thread that read them.
    virtual bool LookupsLocal() const { return false; }

    // --- Partners and keys (operator CLI and authentication) ---
    virtual Result<Partner> CreatePartner(const Partner& partner) = 0;
    virtual Result<Partner> UpdatePartnerLimits(PartnerId app_id, const PartnerLimits& limits, Micros now) = 0;
    virtual Result<Partner> GetPartner(PartnerId app_id) = 0;
    virtual Result<std::vector<Partner>> ListPartners() = 0;
    virtual Result<ApiKey> AddApiKey(const ApiKey& key) = 0;
    virtual Status RevokeApiKey(PartnerId app_id, std::int64_t key_id, Micros now) = 0;
    virtual Result<std::vector<ApiKey>> ListApiKeys(PartnerId app_id) = 0;
    // `account_key` (guid or externalid) is looked up among this partner's accounts only. Possibly from memory,
    // as FindAutomationToRun.
    // `fresh`: read from the database, whatever is kept in memory. `defer_check`: the store may leave the check
    // that values kept in memory are current to the caller (PartnerCredentials::unconfirmed_epoch).
    virtual Result<PartnerCredentials> GetPartnerCredentials(PartnerId app_id,
                                                             std::optional<std::string_view> account_key,
                                                             bool fresh = false, bool defer_check = false) = 0;

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
    // FindAutomation for starting a run, possibly from memory (SqlStore on SQLite: sql::LookupCache, as current
    // as a read). Not for a value that is written back: it may lag the scheduler's `next_fire_at`.
    virtual Result<Automation> FindAutomationToRun(PartnerId partner, std::int64_t account_id,
                                                   std::string_view guid_or_name, std::uint64_t lookup_token = 0) = 0;
    virtual Result<Page<Automation>> ListAutomations(PartnerId partner, std::int64_t account_id,
                                                     const PageRequest& page) = 0;
    // Writes every field of `automation` (found by its id within the account).
    virtual Result<Automation> SaveAutomation(PartnerId partner, const Automation& automation) = 0;
    // Automations of any partner whose guid, or else name, is `key` (triggered URLs carry no partner; the
    // execution token decides which one, if any, is meant).
    virtual Result<std::vector<AccountAutomation>> FindAutomationsByKey(std::string_view key) = 0;
    // Removes the automation with its runs; its queued runs are cancelled with it.
    virtual Status DeleteAutomation(PartnerId partner, std::int64_t account_id, std::int64_t automation_id) = 0;

    // --- Templates (src/store/sqlite/sqlite_templates.cpp) ---
    // Inserts the template, its first version and its bundle members (guids of this partner's non-bundle
    // templates; anything else is a validation error on `sub_blends`).
    virtual Result<Template> CreateTemplate(const Template& tpl) = 0;
    // By guid; `version` picks an older definition (not found when there is no such version), else the latest.
    virtual Result<Template> FindTemplate(PartnerId partner, std::string_view guid,
                                          std::optional<std::int64_t> version) = 0;
    virtual Result<Page<Template>> ListTemplates(PartnerId partner, const std::optional<std::string>& status,
                                                 const PageRequest& page) = 0;
    // Writes the fields and members; with `new_version`, also stores `tpl.definition` as version `tpl.version`.
    virtual Result<Template> SaveTemplate(PartnerId partner, const Template& tpl, bool new_version) = 0;
    // Removes the template with its versions; installed automations stay.
    virtual Status DeleteTemplate(PartnerId partner, std::int64_t template_id) = 0;
    // The member templates of a bundle, in order, at their latest versions.
    virtual Result<std::vector<Template>> ListTemplateMembers(PartnerId partner, std::int64_t template_id) = 0;
    // Creates an installed automation and, for a bundle, its members (bundle_id set to the first's id), in one
    // transaction. A name already taken in the account gets " (2)", " (3)", ... appended.
    virtual Result<std::vector<Automation>> CreateInstalledAutomations(PartnerId partner, const Automation& main,
                                                                       const std::vector<Automation>& members) = 0;
    // The automations a bundle automation was installed with, in order.
    virtual Result<std::vector<Automation>> ListBundleMembers(PartnerId partner, std::int64_t account_id,
                                                              std::int64_t bundle_automation_id) = 0;
    // The account's top-level (not bundle member) automations installed from the template.
    virtual Result<std::vector<Automation>> FindTemplateInstances(PartnerId partner, std::int64_t account_id,
                                                                  std::string_view template_guid) = 0;

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
    // `admission` (when the store's AdmitsInEnqueue): the call's rate decision is made in the same step, before
    // anything else, and nothing is queued unless it admits the call (see CallAdmission).
    virtual Result<Run> EnqueueRun(PartnerId partner, const Run& run, int queue_cap, Micros idempotent_since,
                                   const StartHere* start = nullptr, CallAdmission* admission = nullptr) = 0;
    // Whether EnqueueRun takes a CallAdmission for a run without an idempotency key (PostgreSQL).
    virtual bool AdmitsInEnqueue() const { return false; }
    // EnqueueRun without holding the calling thread until the commit: done gets what EnqueueRun would return, on
    // the thread that committed (possibly before this returns). done should be short: on SQLite it delays the
    // next group commit.
    virtual void EnqueueRunAsync(PartnerId partner, Run run, int queue_cap, Micros idempotent_since,
                                 std::function<void(Result<Run>)> done,
                                 std::shared_ptr<CallAdmission> admission = nullptr,
                                 std::optional<StartHere> start = std::nullopt) {
        done(EnqueueRun(partner, run, queue_cap, idempotent_since, start ? &*start : nullptr, admission.get()));
    }
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
    // Ends a run (only while it is still running or must stop); sets the automation's last_run_at. A Setup flow
    // run that finished marks the automation setup_complete; a Delete flow run that finished removes the
    // automation (with its runs) in the same transaction, and the returned run is its last state.
    virtual Result<Run> FinishRun(std::int64_t run_id, const RunOutcome& outcome) = 0;
    // FinishRun without holding the calling thread until the commit: done gets what FinishRun would return, on
    // the thread that committed (possibly before this returns), and `none_queued`: whether the store saw no run
    // queued at all as it wrote the end (false when it did not look), so that none could take the slot the run
    // freed. outcome.claimed must outlive the call of done.
    using RunEndedFn = std::function<void(Result<Run> run, bool none_queued)>;
    virtual void FinishRunAsync(std::int64_t run_id, RunOutcome outcome, RunEndedFn done) {
        done(FinishRun(run_id, outcome), false);
    }
    // queued -> stopped at once; running -> must stop. Returns the run as it now is.
    virtual Result<Run> RequestRunStop(PartnerId partner, std::int64_t run_id, Micros now) = 0;
    // Whether a stop was requested for a running run (polled by workers at block boundaries).
    virtual Result<bool> StopRequested(std::int64_t run_id) = 0;

    // --- The partner's own connectors (built-in ones are not stored) ---
    // Duplicate key for the partner: conflict. With is_partner_connector set, the flag moves to this one.
    virtual Result<StoredConnector> CreateConnector(const StoredConnector& connector) = 0;
    // By guid first, then by key.
    virtual Result<StoredConnector> FindConnector(PartnerId partner, std::string_view guid_or_key) = 0;
    virtual Result<Page<StoredConnector>> ListConnectors(PartnerId partner, const PageRequest& page) = 0;
    virtual Result<std::optional<StoredConnector>> FindPartnerConnector(PartnerId partner) = 0;
    // Writes key, definition, the partner-connector flag and updated_at of the connector with this id.
    virtual Result<StoredConnector> SaveConnector(PartnerId partner, const StoredConnector& connector) = 0;
    // Refused (invalid_request) while a datasource of the partner's accounts uses it.
    virtual Status DeleteConnector(PartnerId partner, std::int64_t connector_id) = 0;

    // --- Datasources of an account ---
    virtual Result<Datasource> CreateDatasource(PartnerId partner, const Datasource& datasource) = 0;
    virtual Result<Datasource> FindDatasource(PartnerId partner, std::int64_t account_id, std::string_view guid) = 0;
    virtual Result<Page<Datasource>> ListDatasources(PartnerId partner, std::int64_t account_id,
                                                     const PageRequest& page) = 0;
    // Datasources of the account that use this connector (account create's partner-connector credentials).
    virtual Result<std::vector<Datasource>> FindDatasourcesOfConnector(PartnerId partner, std::int64_t account_id,
                                                                       std::string_view connector_guid) = 0;
    // Any partner's datasource by guid (OAuth links and callbacks carry no partner).
    virtual Result<OwnedDatasource> FindDatasourceAnywhere(std::string_view guid) = 0;
    // Writes name, params, sealed, connected, redirect_url and updated_at of the datasource with this id.
    virtual Result<Datasource> SaveDatasource(PartnerId partner, const Datasource& datasource) = 0;
    // Refused (datasource_in_use) while an automation of the account refers to it.
    virtual Status DeleteDatasource(PartnerId partner, std::int64_t account_id, std::int64_t datasource_id) = 0;
    // Automations of the account whose definition or persisted inputs refer to the datasource's guid.
    virtual Result<std::vector<Automation>> AutomationsUsingDatasource(PartnerId partner, std::int64_t account_id,
                                                                       std::string_view guid) = 0;
    // Master-key rotation: sealed datasources of every partner, by id, after `after_id`; and their re-sealing.
    virtual Result<std::vector<Datasource>> ListSealedDatasources(std::int64_t after_id, int limit) = 0;
    // Writes new_sealed only while the stored value is still old_sealed; false when it changed meanwhile.
    virtual Result<bool> ResealDatasource(std::int64_t datasource_id, const std::string& old_sealed,
                                          const std::string& new_sealed) = 0;
    // The distinct key ids ("<key id>:..." prefixes) of every sealed datasource value, with how many use each.
    virtual Result<std::vector<std::pair<std::string, std::int64_t>>> SealedKeyIds() = 0;
    // --- OAuth2 authorization code flow (store/sql/sql_oauth.cpp) ---
    // Stores a pending authorisation; expired ones (of any datasource) are removed on the way.
    virtual Status CreateOAuthState(const OAuthState& state) = 0;
    // Consumes the state with this hash: returns it and deletes it in one transaction, so that exactly one caller
    // (across processes) gets it. not_found when there is none (never issued, already used, or its datasource is
    // gone). The caller checks expires_at.
    virtual Result<OAuthState> ClaimOAuthState(std::string_view state_hash) = 0;
    // Drops every pending authorisation of the datasource (it was just connected).
    virtual Status DeleteOAuthStates(std::int64_t datasource_id) = 0;
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
