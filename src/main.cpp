// The weft binary: the CLI, and the one place where concrete objects are wired together.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "api/api.h"
#include "cli/settings.h"
#include "connectors/builtin.h"
#include "connectors/connector_service.h"
#include "connectors/oauth_flow.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/secret_box.h"
#include "core/time_format.h"
#include "domain/account_service.h"
#include "domain/automation_flows.h"
#include "domain/automation_service.h"
#include "domain/export_links.h"
#include "domain/partner_service.h"
#include "domain/rate_limiter.h"
#include "domain/run_events.h"
#include "domain/run_service.h"
#include "domain/template_service.h"
#include "engine/engine.h"
#include "http/http_client.h"
#include "http/server.h"
#include "jobs/connector_runner.h"
#include "jobs/definition_cache.h"
#include "jobs/engine_checker.h"
#include "jobs/retention.h"
#include "jobs/run_workers.h"
#include "jobs/scheduler.h"
#include "store/open_store.h"
#include "store/postgres/pg_coordination.h"

namespace weft {
namespace {

// The store named by --database, or <data>/weft.db.
std::unique_ptr<SqlStore> OpenStore(const cli::Settings& s, int connections, bool migrate) {
    std::string default_path;
    if (s.Str("database").empty()) {
        std::filesystem::create_directories(s.Str("data"));
        default_path = (std::filesystem::path(s.Str("data")) / "weft.db").string();
    }
    return weft::OpenStore(s.Str("database"), default_path, connections, migrate);
}

// A database URL without its password, for the log.
std::string RedactedUrl(const std::string& url) {
    const auto scheme = url.find("://");
    const auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos) return url;
    const auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::string ReadKeyFile(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read the master key file " + file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string key = SecretBox::ParseKey(text);
    if (key.empty()) throw std::runtime_error("the master key file " + file + " holds no 32-byte key");
    return key;
}

// The master key: WEFT_MASTER_KEY (the key itself, never a flag), else the master_key_file setting, else a
// development key generated once into the data folder. The previous key (old_master_key_file) still opens
// values sealed under it, while `weft secrets rotate` re-seals them.
std::unique_ptr<SecretBox> LoadSecretBox(const cli::Settings& s) {
    std::string key;
    if (const char* env = std::getenv("WEFT_MASTER_KEY"); env != nullptr && *env != '\0') {
        key = SecretBox::ParseKey(env);
        if (key.empty()) throw std::runtime_error("WEFT_MASTER_KEY must be 64 hex digits or base64 of 32 bytes");
    } else if (!s.Str("master_key_file").empty()) {
        key = ReadKeyFile(s.Str("master_key_file"));
    } else {
        std::filesystem::create_directories(s.Str("data"));
        const auto file = std::filesystem::path(s.Str("data")) / "master.key";
        if (!std::filesystem::exists(file)) {
            const std::string tmp = file.string() + ".tmp";
            {
                std::ofstream out(tmp, std::ios::trunc);
                out << HexEncode(RandomBytes(32)) << "\n";
                if (!out) throw std::runtime_error("cannot write " + tmp);
            }
            std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                         std::filesystem::perm_options::replace);
            std::filesystem::rename(tmp, file);
            spdlog::warn(
                "no master key given: generated a development key in {} (set WEFT_MASTER_KEY or "
                "master_key_file in production)",
                file.string());
        }
        key = ReadKeyFile(file.string());
    }
    auto box = std::make_unique<SecretBox>(std::move(key));
    if (!s.Str("old_master_key_file").empty()) box->AddOldKey(ReadKeyFile(s.Str("old_master_key_file")));
    return box;
}

std::pair<std::string, std::uint16_t> ParseListen(const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("listen must be HOST:PORT, got '" + listen + "'");
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = listen.substr(colon + 1);
    try {
        size_t used = 0;
        const int p = std::stoi(port, &used);
        if (used == port.size() && p >= 0 && p <= 65535) return {host, static_cast<std::uint16_t>(p)};
    } catch (const std::exception&) {
    }
    throw std::runtime_error("listen port must be 0..65535, got '" + port + "'");
}

void WritePortFile(const std::string& file, std::uint16_t port) {
    const std::string tmp = file + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        if (!out) throw std::runtime_error("cannot write port file " + file);
    }
    std::filesystem::rename(tmp, file);
}

// `weft serve` (api = true) and `weft worker` (api = false: workers and scheduler, with only the health,
// readiness and metrics routes).
int Serve(const cli::Settings& s, bool api) {
    spdlog::set_level(spdlog::level::from_str(s.Str("log_level")));
    auto [host, port] = ParseListen(s.Str("listen"));
    const int db_threads = static_cast<int>(s.Int("db_threads", 1, 256));

    const int db_read_threads = static_cast<int>(s.Int("db_read_threads", 1, 256));
    const bool postgres = IsPostgresUrl(s.Str("database"));
    // 0 runs in flight: this process only answers the API; the runs its calls queue are executed by the other
    // processes on the same PostgreSQL database (a sync call is woken when one of them finishes the run).
    const int runs_in_flight = static_cast<int>(s.Int("max_runs_in_flight", 0, 100000));
    if (runs_in_flight == 0 && !api) {
        throw std::runtime_error("max_runs_in_flight 0 makes a worker that runs nothing: give it 1 or more");
    }
    if (runs_in_flight == 0 && !postgres) {
        throw std::runtime_error(
            "max_runs_in_flight 0 (a server that runs nothing itself) needs a PostgreSQL database shared with "
            "processes that run the runs (--database postgres://...)");
    }
    int connections = db_threads + db_read_threads;
    if (postgres && s.Int("db_pool", 0, 10000) > 0) connections = static_cast<int>(s.Int("db_pool", 0, 10000));
    auto store = OpenStore(s, connections, true);
    std::unique_ptr<Clock> clock;
    OffsetClock* test_clock = nullptr;
    if (s.Bool("test_clock")) {
        auto c = std::make_unique<OffsetClock>();
        test_clock = c.get();
        clock = std::move(c);
        spdlog::warn("--test-clock is on: POST /_test/clock can move this server's clock (testing only)");
    } else {
        clock = std::make_unique<SystemClock>();
    }
    MetricsRegistry metrics;
    PartnerService partners(*store, *clock);
    AccountService accounts(*store, *clock);
    // Several processes on one PostgreSQL database share rate-limit windows through it.
    std::unique_ptr<RateLimiter> rate_limiter;
    if (postgres) {
        // (Its decisions also confirm the lookups API calls made from memory: see AccountRoute.)
        rate_limiter = std::make_unique<pg::PgRateLimiter>(
            store->database(), [sql_store = store.get()](std::int64_t epoch) { sql_store->ObserveConfigEpoch(epoch); });
    } else {
        rate_limiter = std::make_unique<InMemoryRateLimiter>();
    }
    jobs::DefinitionCache definitions;
    jobs::EngineDefinitionChecker checker(definitions);
    AutomationService automations(*store, *clock, checker);
    RunEvents run_events;
    RunService runs(*store, *clock, checker, run_events);
    TemplateService templates(*store, *clock, checker, runs);
    AutomationFlows flows(*store, automations, runs);
    engine::Engine engine(*clock, [clock = clock.get()] { return NewGuid(clock->Now()); });
    const connectors::BuiltinConnectors builtin_connectors;
    auto secret_box = LoadSecretBox(s);
    connectors::ConnectorService connector_service(*store, *clock, *secret_box, builtin_connectors);
    // Refuse to start rather than fail every connector call later: a secret this server cannot open means it was
    // given the wrong master key (e.g. the old one after `weft secrets rotate`).
    if (auto keys = connector_service.CheckSealedKeys(false); !keys) throw std::runtime_error(keys.error().message);

    http::ServerOptions opts;
    opts.host = host;
    opts.port = port;
    opts.io_threads = static_cast<int>(s.Int("threads", 1, 256));
    opts.blocking_threads = db_threads;
    opts.read_threads = db_read_threads;
    opts.max_body_bytes = static_cast<std::size_t>(s.Int("max_body_bytes", 1024, 1LL << 30));
    opts.max_header_bytes = static_cast<std::size_t>(s.Int("max_header_bytes", 1024, 1 << 20));
    opts.read_timeout = std::chrono::seconds(s.Int("read_timeout", 1, 3600));
    opts.write_timeout = std::chrono::seconds(s.Int("write_timeout", 1, 3600));
    opts.idle_timeout = std::chrono::seconds(s.Int("idle_timeout", 1, 3600));
    opts.shutdown_timeout = std::chrono::seconds(s.Int("shutdown_timeout", 0, 3600));
    opts.access_log = s.Bool("access_log");

    http::Router router;
    http::Server* server_ptr = nullptr;
    api::ApiDeps deps{
        *store, partners, accounts, *rate_limiter, *clock, metrics, s.Str("public_url"), test_clock, [&server_ptr] {
            return server_ptr && server_ptr->stopping();
        }};
    while (!deps.public_url.empty() && deps.public_url.back() == '/') deps.public_url.pop_back();
    deps.automations = &automations;
    deps.runs = &runs;
    deps.templates = &templates;
    deps.flows = &flows;
    deps.connectors = &connector_service;
    deps.sync_timeout = std::chrono::seconds(s.Int("sync_timeout", 1, 3600));
    deps.trigger_max_body = static_cast<std::size_t>(s.Int("trigger_max_body_bytes", 1, 1LL << 30));
    auto export_key = store->ServerSecret("run_export_links", RandomToken(64), clock->Now());
    if (!export_key) throw std::runtime_error("reading the export-link secret failed: " + export_key.error().detail);
    ExportLinks export_links(*export_key, *clock);
    deps.export_links = &export_links;
    if (api) {
        api::RegisterRoutes(router, deps);
    } else {
        api::RegisterSystemRoutes(router, deps);
    }

    http::Server server(opts, router, metrics);
    server_ptr = &server;
    deps.runtime = &server.runtime();
    jobs::WorkerOptions worker_options;
    worker_options.owner = NewGuid(clock->Now());
    worker_options.lease = s.Int("run_lease", 1, 3600) * 1'000'000;
    worker_options.capacity = runs_in_flight;
    http::HttpClient::Options client_options;
    client_options.allow_private_network = s.Bool("allow_private_network");
    if (client_options.allow_private_network) {
        spdlog::warn("--allow-private-network is on: automations may call loopback and private addresses");
    }
    client_options.extra_ca_file = s.Str("test_ca_file");
    if (!client_options.extra_ca_file.empty()) {
        spdlog::warn(
            "--test-ca-file is on: automations' https calls also trust the CA certificates of {} (testing "
            "only)",
            client_options.extra_ca_file);
    }
    auto http_client = http::HttpClient::Create(client_options);
    jobs::ConnectorRunner connector_runner(connector_service, *http_client, server.runtime(), *clock);
    // The OAuth callback exchanges codes through the same outbound client (and address guard) as runs.
    connectors::OAuthFlow oauth_flow(
        *store, connector_service, *clock, server.runtime(),
        [&http_client](const engine::HttpRequestEffect& request, std::function<void(engine::HttpResult)> done) {
            http_client->Send(request, std::move(done));
        });
    deps.oauth = &oauth_flow;
    jobs::RunWorkers workers(*store, *clock, server.runtime(), run_events, runs, definitions, engine, http_client.get(),
                             metrics, worker_options, &connector_runner);
    runs.SetLocalStarter(&workers);  // submitted runs may start here at once
    const std::uint16_t bound = server.Listen();
    spdlog::info("weft {} listening on {}:{} (database {})", api ? "server" : "worker", host, bound,
                 s.Str("database").empty() ? s.Str("data") + "/weft.db" : RedactedUrl(s.Str("database")));
    if (runs_in_flight == 0) spdlog::info("max_runs_in_flight is 0: runs are executed by the other processes");
    jobs::Scheduler scheduler(*store, *clock, server.runtime(), checker, run_events, metrics,
                              std::chrono::milliseconds(s.Int("scheduler_tick_ms", 10, 60000)));
    std::unique_ptr<pg::LeaderLock> scheduler_lock;
    std::unique_ptr<pg::RunFinishedListener> finished_listener;
    if (postgres) {
        // One active scheduler among the processes on this database; the others take over within seconds.
        scheduler_lock = std::make_unique<pg::LeaderLock>(s.Str("database"), pg::kSchedulerLockKey);
        scheduler.SetActiveGate([&scheduler_lock] { return scheduler_lock->Held(); });
        // Sync callers here hear of runs that end on another process (NOTIFY, with a poll as fallback).
        auto deliver = [&store, &run_events, &server](std::int64_t run_id) {
            if (!run_events.HasWaiters(run_id)) return;
            server.runtime().Post([&store, &run_events, run_id] {
                auto run = store->GetRunById(run_id);
                if (run && run->Final()) run_events.Finished(*run);
            });
        };
        finished_listener =
            std::make_unique<pg::RunFinishedListener>(s.Str("database"), deliver, [deliver, &run_events] {
                for (auto id : run_events.WaitedRunIds()) deliver(id);
            });
    }
    jobs::Retention retention(*store, *clock, server.runtime(), metrics,
                              s.Int("run_retention_days", 1, 36500) * 86400LL * 1'000'000,
                              std::chrono::seconds(s.Int("retention_interval", 1, 86400)));
    workers.Start();
    scheduler.Start();
    retention.Start();
    if (!s.Str("port_file").empty()) WritePortFile(s.Str("port_file"), bound);
    server.Run();
    if (finished_listener) finished_listener->Stop();
    retention.Stop();
    scheduler.Stop();
    workers.Stop();
    runs.SetLocalStarter(nullptr);
    http_client->Shutdown();
    // A job's callback may still be running on the pools (a reaper pass, a run's step): let it end before the
    // jobs are destroyed.
    server.JoinPools();
    // And the database's writes still in flight, whose callbacks use the jobs too.
    store->database().Flush();
    // Sync callers still waiting hold callbacks and timers of the server's event loop: drop them while it
    // exists.
    run_events.Clear();
    spdlog::info("weft stopped");
    return 0;
}

[[noreturn]] void Fail(const Error& e) {
    std::string msg = e.message;
    for (const auto& [field, messages] : e.fields) {
        for (const auto& m : messages) msg += "\n  " + field + ": " + m;
    }
    throw std::runtime_error(msg);
}

int RotateSecrets(const cli::Settings& s) {
    if (s.Str("old_master_key_file").empty()) {
        throw std::runtime_error("--old-master-key-file (the key the secrets are sealed under now) is required");
    }
    auto store = OpenStore(s, 1, true);
    auto box = LoadSecretBox(s);
    SystemClock clock;
    const connectors::BuiltinConnectors builtin;
    connectors::ConnectorService service(*store, clock, *box, builtin);
    auto count = service.ResealAll();
    if (!count) Fail(count.error());
    std::cout << "re-encrypted " << *count << " datasource secret(s) under key " << box->current_key_id() << "\n";
    return 0;
}

int Migrate(const cli::Settings& s) {
    auto store = OpenStore(s, 1, false);
    const int before = store->SchemaVersion();
    const int applied = store->Migrate();
    std::cout << "schema version " << store->SchemaVersion() << " (was " << before << ", applied " << applied << ")\n";
    return 0;
}

boost::json::object PartnerJson(const Partner& p) {
    return {{"app_id", p.app_id},
            {"guid", p.guid},
            {"name", p.name},
            {"rate_limit", p.limits.rate_limit},
            {"queue_cap", p.limits.queue_cap},
            {"concurrency", p.limits.concurrency},
            {"created_at", FormatTimestamp(p.created_at)}};
}

struct LimitFlags {
    int rate_limit = 0, queue_cap = 0, concurrency = 0;
    void Add(CLI::App& cmd) {
        cmd.add_option("--rate-limit", rate_limit, "Calls per minute per account (and for the partner's own calls)");
        cmd.add_option("--queue-cap", queue_cap, "Queued runs per account");
        cmd.add_option("--concurrency", concurrency, "Running runs per account");
    }
    PartnerLimitsPatch Patch(const CLI::App& cmd) const {
        PartnerLimitsPatch p;
        if (cmd.count("--rate-limit")) p.rate_limit = rate_limit;
        if (cmd.count("--queue-cap")) p.queue_cap = queue_cap;
        if (cmd.count("--concurrency")) p.concurrency = concurrency;
        return p;
    }
};

int Main(int argc, char** argv) {
    CLI::App app{
        "weft: an embeddable integration-automation platform.\n"
        "Every setting has a flag, a WEFT_* environment variable and a config-file key; "
        "precedence: flag, environment, config file, default."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "weft 0.1.0");

    cli::Settings serve_settings(cli::AllSettings());
    auto* serve = app.add_subcommand("serve", "Run the API server with its workers and scheduler");
    serve_settings.AddTo(*serve);

    cli::Settings worker_settings(cli::AllSettings());
    auto* worker = app.add_subcommand(
        "worker", "Run workers and the scheduler without the API (health, readiness and metrics only)");
    worker_settings.AddTo(*worker);

    cli::Settings migrate_settings(cli::SettingsFor({"data", "database"}));
    auto* migrate = app.add_subcommand("migrate", "Apply schema migrations and exit");
    migrate_settings.AddTo(*migrate);

    cli::Settings secrets_settings(cli::SettingsFor({"data", "database", "master_key_file", "old_master_key_file"}));
    auto* secrets = app.add_subcommand("secrets", "Manage the master key of datasource secrets");
    secrets->require_subcommand(1);
    auto* rotate =
        secrets->add_subcommand("rotate",
                                "Re-encrypt every datasource secret under the current master key (WEFT_MASTER_KEY or "
                                "--master-key-file), reading them with the old one (--old-master-key-file)");
    secrets_settings.AddTo(*rotate);

    auto* partner = app.add_subcommand("partner", "Manage partners and their API keys");
    partner->require_subcommand(1);
    bool json_out = false;
    std::string name;
    std::int64_t app_id = 0, key_id = 0;
    LimitFlags limits;
    cli::Settings partner_settings(cli::SettingsFor({"data", "database"}));

    auto* p_create = partner->add_subcommand("create", "Create a partner; prints its app id and a new API key");
    p_create->add_option("--name", name, "Partner name")->required();
    limits.Add(*p_create);
    auto* p_update = partner->add_subcommand("update", "Change a partner's limits (takes effect live)");
    p_update->add_option("--app-id", app_id, "Partner app id")->required();
    limits.Add(*p_update);
    auto* p_key_add = partner->add_subcommand("key-add", "Add an API key (for rotation); prints it once");
    p_key_add->add_option("--app-id", app_id, "Partner app id")->required();
    auto* p_key_revoke = partner->add_subcommand("key-revoke", "Revoke an API key");
    p_key_revoke->add_option("--app-id", app_id, "Partner app id")->required();
    p_key_revoke->add_option("--key-id", key_id, "Key id (see partner list)")->required();
    auto* p_list = partner->add_subcommand("list", "List partners and their keys (never the secrets)");
    for (auto* cmd : {p_create, p_update, p_key_add, p_key_revoke, p_list}) {
        partner_settings.AddTo(*cmd);
        cmd->add_flag("--json", json_out, "Print JSON");
    }

    CLI11_PARSE(app, argc, argv);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);

    if (serve->parsed()) {
        serve_settings.Resolve();
        return Serve(serve_settings, true);
    }
    if (worker->parsed()) {
        worker_settings.Resolve();
        return Serve(worker_settings, false);
    }
    if (migrate->parsed()) {
        migrate_settings.Resolve();
        return Migrate(migrate_settings);
    }
    if (rotate->parsed()) {
        secrets_settings.Resolve();
        return RotateSecrets(secrets_settings);
    }
    partner_settings.Resolve();
    auto store = OpenStore(partner_settings, 1, true);
    SystemClock clock;
    PartnerService service(*store, clock);
    if (p_create->parsed() || p_key_add->parsed()) {
        auto r = p_create->parsed() ? service.Create(name, limits.Patch(*p_create)) : service.AddKey(app_id);
        if (!r) Fail(r.error());
        if (json_out) {
            boost::json::object o{{"app_id", r->partner.app_id}, {"api_key", r->api_key}, {"key_id", r->key.id}};
            if (p_create->parsed()) o["guid"] = r->partner.guid;
            std::cout << boost::json::serialize(o) << "\n";
        } else {
            std::cout << "app_id:  " << r->partner.app_id << "\nkey_id:  " << r->key.id << "\napi_key: " << r->api_key
                      << "\n(the key is shown only now; store it safely)\n";
        }
        return 0;
    }
    if (p_update->parsed()) {
        auto r = service.UpdateLimits(app_id, limits.Patch(*p_update));
        if (!r) Fail(r.error());
        if (json_out) {
            std::cout << boost::json::serialize(PartnerJson(*r)) << "\n";
        } else {
            std::cout << "partner " << r->app_id << ": rate_limit " << r->limits.rate_limit << ", queue_cap "
                      << r->limits.queue_cap << ", concurrency " << r->limits.concurrency << "\n";
        }
        return 0;
    }
    if (p_key_revoke->parsed()) {
        if (auto r = service.RevokeKey(app_id, key_id); !r) Fail(r.error());
        if (!json_out) std::cout << "key " << key_id << " of partner " << app_id << " revoked\n";
        if (json_out) std::cout << "{\"revoked\":true}\n";
        return 0;
    }
    auto partners = service.List();
    if (!partners) Fail(partners.error());
    boost::json::array out;
    for (const auto& p : *partners) {
        auto o = PartnerJson(p);
        boost::json::array keys;
        auto list = service.Keys(p.app_id);
        if (!list) Fail(list.error());
        for (const auto& k : *list) {
            keys.push_back({{"key_id", k.id},
                            {"prefix", k.prefix},
                            {"created_at", FormatTimestamp(k.created_at)},
                            {"revoked_at", k.revoked_at ? boost::json::value(FormatTimestamp(*k.revoked_at))
                                                        : boost::json::value(nullptr)}});
        }
        o["keys"] = std::move(keys);
        out.push_back(std::move(o));
    }
    if (json_out) {
        std::cout << boost::json::serialize(out) << "\n";
    } else {
        for (const auto& p : out) {
            const auto& o = p.as_object();
            std::cout << o.at("app_id").as_int64() << "  " << o.at("name").as_string().c_str() << "  rate_limit "
                      << o.at("rate_limit").as_int64() << "  queue_cap " << o.at("queue_cap").as_int64()
                      << "  concurrency " << o.at("concurrency").as_int64() << "\n";
            for (const auto& k : o.at("keys").as_array()) {
                const auto& ko = k.as_object();
                std::cout << "    key " << ko.at("key_id").as_int64() << "  " << ko.at("prefix").as_string().c_str()
                          << "...  " << (ko.at("revoked_at").is_null() ? "active" : "revoked") << "\n";
            }
        }
    }
    return 0;
}

}  // namespace
}  // namespace weft

int main(int argc, char** argv) {
    try {
        return weft::Main(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "weft: " << e.what() << "\n";
        return 1;
    }
}
