#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/store.h"
#include "store/sql/combiner.h"
#include "store/sql/lookup_cache.h"
#include "store/sql/sql_db.h"

namespace weft {

// The store: one implementation of the Store port over the sql layer, run on SQLite (the embedded default)
// or PostgreSQL (scale-out: several processes on one database).
class SqlStore : public Store {
  public:
    // Throws when the database's schema is newer than this binary knows. `migrate` applies pending
    // migrations; without it, pending migrations make Ping() report the store as not ready.
    // `lookup_recheck`: how often the lookups kept in memory read config_epoch (sql::LookupCache); by default
    // 100 ms on SQLite (its only other processes are CLI commands) and at every lookup on PostgreSQL.
    SqlStore(std::unique_ptr<sql::Database> db, bool migrate,
             std::optional<std::chrono::milliseconds> lookup_recheck = std::nullopt);
    static constexpr std::chrono::milliseconds kSqliteLookupRecheck{100};

    // Applies pending migrations, each in its own transaction (on PostgreSQL under an advisory lock, so that
    // processes starting together apply each one once). Returns how many were applied.
    int Migrate();
    int SchemaVersion();
    sql::Database& database() { return *db_; }

    Status Ping() override;
    bool LookupsLocal() const override { return db_->dialect() == sql::Dialect::kSqlite; }

    Result<Partner> CreatePartner(const Partner& partner) override;
    Result<Partner> UpdatePartnerLimits(PartnerId app_id, const PartnerLimits& limits, Micros now) override;
    Result<Partner> GetPartner(PartnerId app_id) override;
    Result<std::vector<Partner>> ListPartners() override;
    Result<ApiKey> AddApiKey(const ApiKey& key) override;
    Status RevokeApiKey(PartnerId app_id, std::int64_t key_id, Micros now) override;
    Result<std::vector<ApiKey>> ListApiKeys(PartnerId app_id) override;
    Result<PartnerCredentials> GetPartnerCredentials(PartnerId app_id, std::optional<std::string_view> account_key,
                                                     bool fresh = false, bool defer_check = false) override;
    // The config epoch as a statement outside this store read it (pg::PgRateLimiter): see LookupCache::Observe.
    void ObserveConfigEpoch(std::int64_t epoch) { lookups_.Observe(epoch); }

    Result<Account> CreateAccount(const Account& account, const std::optional<User>& first_user) override;
    Result<Account> FindAccount(PartnerId partner, std::string_view guid_or_externalid) override;
    Result<Page<Account>> ListAccounts(PartnerId partner, const AccountFilter& filter,
                                       const PageRequest& page) override;
    Result<Account> UpdateAccount(PartnerId partner, std::int64_t account_id, const AccountPatch& patch) override;
    Status DeleteAccount(PartnerId partner, std::int64_t account_id) override;

    Result<User> CreateUser(PartnerId partner, const User& user) override;
    Result<User> FindUser(PartnerId partner, std::int64_t account_id, std::string_view guid_or_externalid) override;
    Result<Page<User>> ListUsers(PartnerId partner, std::int64_t account_id, const PageRequest& page) override;
    Result<User> UpdateUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id,
                            const UserPatch& patch) override;
    Status DeleteUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id) override;

    Result<Automation> CreateAutomation(PartnerId partner, const Automation& automation) override;
    Result<Automation> FindAutomation(PartnerId partner, std::int64_t account_id,
                                      std::string_view guid_or_name) override;
    Result<Automation> FindAutomationToRun(PartnerId partner, std::int64_t account_id, std::string_view guid_or_name,
                                           std::uint64_t lookup_token = 0) override;
    Result<Page<Automation>> ListAutomations(PartnerId partner, std::int64_t account_id,
                                             const PageRequest& page) override;
    Result<Automation> SaveAutomation(PartnerId partner, const Automation& automation) override;
    Result<std::vector<AccountAutomation>> FindAutomationsByKey(std::string_view key) override;
    Status DeleteAutomation(PartnerId partner, std::int64_t account_id, std::int64_t automation_id) override;

    Result<std::vector<AccountAutomation>> DueSchedules(Micros now, int limit) override;
    Result<FireResult> FireSchedule(std::int64_t automation_id, Micros tick, std::optional<Micros> next,
                                    const std::optional<Run>& run, int queue_cap) override;
    Result<Run> EnqueueRun(PartnerId partner, const Run& run, int queue_cap, Micros idempotent_since,
                           const StartHere* start = nullptr, CallAdmission* admission = nullptr) override;
    bool AdmitsInEnqueue() const override;
    void EnqueueRunAsync(PartnerId partner, Run run, int queue_cap, Micros idempotent_since,
                         std::function<void(Result<Run>)> done, std::shared_ptr<CallAdmission> admission = nullptr,
                         std::optional<StartHere> start = std::nullopt) override;
    Result<Run> FindRun(PartnerId partner, std::int64_t automation_id, std::string_view guid) override;
    Result<Run> GetRunById(std::int64_t run_id) override;
    Result<Page<Run>> ListRuns(PartnerId partner, std::int64_t automation_id, const RunFilter& filter,
                               const PageRequest& page) override;
    Result<std::vector<ClaimedRun>> ClaimRuns(const std::string& owner, int max, Micros now,
                                              Micros lease_until) override;
    Result<std::optional<ClaimedRun>> ClaimRun(std::int64_t run_id, const std::string& owner, Micros now,
                                               Micros lease_until) override;
    Status RenewLeases(const std::string& owner, const std::vector<std::int64_t>& run_ids, Micros lease_until) override;
    Result<int> ReapExpiredLeases(Micros now, int max_attempts) override;
    Status AppendRunLogs(std::int64_t run_id, const std::vector<std::string>& entries) override;
    Result<Page<std::string>> ListRunLogs(PartnerId partner, std::int64_t run_id, const PageRequest& page) override;
    Result<Run> FinishRun(std::int64_t run_id, const RunOutcome& outcome) override;
    void FinishRunAsync(std::int64_t run_id, RunOutcome outcome, RunEndedFn done) override;
    Result<Run> RequestRunStop(PartnerId partner, std::int64_t run_id, Micros now) override;
    Result<bool> StopRequested(std::int64_t run_id) override;
    Result<RunExport> ExportRun(std::string_view guid) override;
    Result<std::vector<Run>> ListActiveRuns(PartnerId partner, std::int64_t account_id) override;
    Result<int> PruneRuns(Micros before, int batch) override;
    Result<std::string> ServerSecret(std::string_view name, std::string_view fresh, Micros now) override;

    Result<Template> CreateTemplate(const Template& tpl) override;
    Result<Template> FindTemplate(PartnerId partner, std::string_view guid,
                                  std::optional<std::int64_t> version) override;
    Result<Page<Template>> ListTemplates(PartnerId partner, const std::optional<std::string>& status,
                                         const PageRequest& page) override;
    Result<Template> SaveTemplate(PartnerId partner, const Template& tpl, bool new_version) override;
    Status DeleteTemplate(PartnerId partner, std::int64_t template_id) override;
    Result<std::vector<Template>> ListTemplateMembers(PartnerId partner, std::int64_t template_id) override;
    Result<std::vector<Automation>> CreateInstalledAutomations(PartnerId partner, const Automation& main,
                                                               const std::vector<Automation>& members) override;
    Result<std::vector<Automation>> ListBundleMembers(PartnerId partner, std::int64_t account_id,
                                                      std::int64_t bundle_automation_id) override;
    Result<std::vector<Automation>> FindTemplateInstances(PartnerId partner, std::int64_t account_id,
                                                          std::string_view template_guid) override;

    // sql_connectors.cpp
    Result<StoredConnector> CreateConnector(const StoredConnector& connector) override;
    Result<StoredConnector> FindConnector(PartnerId partner, std::string_view guid_or_key) override;
    Result<Page<StoredConnector>> ListConnectors(PartnerId partner, const PageRequest& page) override;
    Result<std::optional<StoredConnector>> FindPartnerConnector(PartnerId partner) override;
    Result<StoredConnector> SaveConnector(PartnerId partner, const StoredConnector& connector) override;
    Status DeleteConnector(PartnerId partner, std::int64_t connector_id) override;
    Result<Datasource> CreateDatasource(PartnerId partner, const Datasource& datasource) override;
    Result<Datasource> FindDatasource(PartnerId partner, std::int64_t account_id, std::string_view guid) override;
    Result<Page<Datasource>> ListDatasources(PartnerId partner, std::int64_t account_id,
                                             const PageRequest& page) override;
    Result<std::vector<Datasource>> FindDatasourcesOfConnector(PartnerId partner, std::int64_t account_id,
                                                               std::string_view connector_guid) override;
    Result<OwnedDatasource> FindDatasourceAnywhere(std::string_view guid) override;
    Result<Datasource> SaveDatasource(PartnerId partner, const Datasource& datasource) override;
    Status DeleteDatasource(PartnerId partner, std::int64_t account_id, std::int64_t datasource_id) override;
    Result<std::vector<Automation>> AutomationsUsingDatasource(PartnerId partner, std::int64_t account_id,
                                                               std::string_view guid) override;
    Result<std::vector<Datasource>> ListSealedDatasources(std::int64_t after_id, int limit) override;
    Result<bool> ResealDatasource(std::int64_t datasource_id, const std::string& old_sealed,
                                  const std::string& new_sealed) override;
    Result<std::vector<std::pair<std::string, std::int64_t>>> SealedKeyIds() override;
    Status CreateOAuthState(const OAuthState& state) override;
    Result<OAuthState> ClaimOAuthState(std::string_view state_hash) override;
    Status DeleteOAuthStates(std::int64_t datasource_id) override;

  private:
    std::unique_ptr<sql::Database> db_;
    // The credentials and automations runs look up, kept in memory and checked against the database's
    // config_epoch (see LookupCache).
    sql::LookupCache lookups_;
    // A write that may change what lookups_ holds: it is forgotten once the write is committed.
    template <typename Fn>
    auto ConfigWrite(Fn&& fn) {
        auto r = db_->Write(std::forward<Fn>(fn));
        lookups_.Invalidate();
        return r;
    }
    void EnsureMigrationsTable();
    Result<std::int64_t> ReadConfigEpoch();
    Result<PartnerCredentials> ReadPartnerCredentials(PartnerId app_id, std::optional<std::string_view> account_key);

    // PostgreSQL: runs queued by concurrent calls share one transaction (see EnqueueRun).
    struct EnqueueRequest {
        PartnerId partner;
        const Run& run;
        int queue_cap;
        const StartHere* start;
        CallAdmission* admission;
        std::optional<Result<Run>> result;
        bool done = false;
    };
    // A batch smaller than the last waits up to this long for as many requests as the last had (sql::Combiner):
    // most of an enqueue's database cost is per statement, not per run, so at a steady rate of calls the batches
    // keep their size instead of shrinking to what arrived during the last commit. (2 ms: session 11's
    // interleaved runs of `bench/runs_ab.sh`, docs/performance.md; a lone call never waits.)
    static constexpr std::chrono::microseconds kEnqueueGather{2000};
    sql::Combiner<EnqueueRequest> enqueues_;
    void EnqueueBatch(std::vector<EnqueueRequest*>& batch);

    // PostgreSQL: the ends of claimed runs that arrive while others are being written are written together
    // next, in one statement (see FinishRunAsync).
    struct PendingEnd {
        std::int64_t run_id;
        RunOutcome outcome;
        RunEndedFn done;
    };
    // As kEnqueueGather, for the ends (the worker that writes them waits, not the runs' callers; 1 ms: session
    // 11's interleaved runs).
    static constexpr std::chrono::microseconds kEndGather{1000};
    sql::Batcher<PendingEnd> ends_;
    void EndBatch(std::vector<PendingEnd>& batch);
    // The end of a run in a transaction of its own, with everything FinishRun promises (the Setup and Delete
    // flows' effects; a run no longer running is refused and left as it is).
    Result<Run> EndInTransaction(std::int64_t run_id, const RunOutcome& o);
};

}  // namespace weft
