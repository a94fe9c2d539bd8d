// Measures the lookups every run call makes (a partner's credentials with the account; the automation to run):
// read from the database each time (FindAutomation), or kept in memory and checked against config_epoch
// (GetPartnerCredentials, FindAutomationToRun; see src/store/sql/lookup_cache.h). On a SQLite file in a temp
// folder, or on the PostgreSQL database WEFT_BENCH_PG_URL names (an empty one).
//   build/bench/store/weft_store_bench [--benchmark_filter=...]

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/ids.h"
#include "store/open_store.h"

namespace weft {
namespace {

struct World {
    std::filesystem::path dir;
    std::unique_ptr<SqlStore> store;
    PartnerId partner = 0;
    Account account;
    Automation automation;

    World() {
        const char* pg = std::getenv("WEFT_BENCH_PG_URL");
        std::string url;
        if (pg && *pg) {
            url = pg;
        } else {
            dir = std::filesystem::temp_directory_path() / ("weft-store-bench-" + NewGuid(1));
            std::filesystem::create_directories(dir);
            url = "sqlite://" + (dir / "weft.db").string();
        }
        store = OpenStore(url, "", 4, true);
        const Micros now = 1'795'851'521'000'000;
        Partner p;
        p.guid = NewGuid(now);
        p.name = "bench";
        partner = store->CreatePartner(p)->app_id;
        for (int i = 0; i < 2; ++i) {
            (void)store->AddApiKey({0, partner, "k" + std::to_string(i), NewGuid(now + i), now, std::nullopt});
        }
        Account a;
        a.partner_id = partner;
        a.guid = NewGuid(now);
        a.externalid = "bench";
        a.name = "Bench";
        a.created_at = a.updated_at = now;
        account = *store->CreateAccount(a, std::nullopt);
        Automation b;
        b.account_id = account.id;
        b.guid = NewGuid(now);
        b.name = "echo";
        b.run_mode = "on demand";
        b.definition = R"({"schema":1,"flows":{"start":[{"id":"out","type":"output","value":{"n":1}}]}})";
        b.execution_token = "t";
        b.created_at = b.updated_at = now;
        automation = *store->CreateAutomation(partner, b);
    }
    ~World() {
        store.reset();
        if (!dir.empty()) std::filesystem::remove_all(dir);
    }
};

World& TheWorld() {
    static World w;
    return w;
}

void Check(bool ok) {
    if (!ok) throw std::runtime_error("lookup failed");
}

// A read of the joined rows, as every lookup was before they were kept in memory.
void BM_AutomationFromTheDatabase(benchmark::State& state) {
    World& w = TheWorld();
    for (auto _ : state) Check(w.store->FindAutomation(w.partner, w.account.id, "echo").ok());
}
BENCHMARK(BM_AutomationFromTheDatabase)->Threads(1)->Threads(2)->UseRealTime();

// From memory after reading config_epoch: a lookup made on its own.
void BM_AutomationFromMemory(benchmark::State& state) {
    World& w = TheWorld();
    for (auto _ : state) Check(w.store->FindAutomationToRun(w.partner, w.account.id, "echo").ok());
}
BENCHMARK(BM_AutomationFromMemory)->Threads(1)->Threads(2)->UseRealTime();

// What a run call does: the credentials (config_epoch read, from memory), then the automation relying on that
// check (from memory, no read).
void BM_RunCallLookups(benchmark::State& state) {
    World& w = TheWorld();
    for (auto _ : state) {
        auto creds = w.store->GetPartnerCredentials(w.partner, std::string_view("bench"));
        Check(creds.ok() && creds->account.has_value());
        Check(w.store->FindAutomationToRun(w.partner, w.account.id, "echo", creds->lookup_token).ok());
    }
}
BENCHMARK(BM_RunCallLookups)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace weft
