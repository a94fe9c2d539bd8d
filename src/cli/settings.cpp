#include "cli/settings.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace weft::cli {

const std::vector<SettingDef>& AllSettings() {
    static const std::vector<SettingDef> kAll = {
        {"listen", "127.0.0.1:8080", "Address to listen on, HOST:PORT (port 0: the OS picks one)", false},
        {"data", "./weft-data", "Data folder for the embedded SQLite database", false},
        {"database", "",
         "Database URL: sqlite:///path/to/weft.db (default: <data>/weft.db) or "
         "postgres://user:password@host:port/dbname (several processes may share one)",
         false},
        {"db_pool", "0", "PostgreSQL connections per process (0: db_threads + db_read_threads; SQLite ignores it)",
         false},
        {"port_file", "", "Write the bound port to this file once connections are accepted", false},
        {"threads", std::to_string(std::max(1u, std::thread::hardware_concurrency())),
         "I/O threads (default: number of cores)", false},
        {"db_threads", "16", "Threads for database writes (concurrent writers share group commits)", false},
        {"db_read_threads", std::to_string(std::max(1u, std::thread::hardware_concurrency())),
         "Threads for database reads (default: number of cores)", false},
        {"public_url", "",
         "Public base URL for absolute links and the OAuth redirect_uri <public_url>/datasources/oauth/callback "
         "(default: http://<the request's Host>)",
         false},
        {"max_body_bytes", "1048576", "Largest accepted API request body (413 beyond)", false},
        {"max_header_bytes", "16384", "Largest accepted request header block (413 beyond)", false},
        {"read_timeout", "30", "Seconds a client has to send a whole request", false},
        {"write_timeout", "30", "Seconds a client has to take a whole response", false},
        {"idle_timeout", "60", "Seconds a keep-alive connection may wait for its next request", false},
        {"shutdown_timeout", "10", "Seconds in-flight requests get to finish on SIGTERM/SIGINT", false},
        {"access_log", "true", "One structured log line per request (true/false)", false},
        {"log_level", "info", "trace, debug, info, warn, error or off", false},
        {"trigger_max_body_bytes", "65536", "Largest payload of a triggered call on /v1/widgets (413 beyond)", false},
        {"sync_timeout", "55", "Seconds a sync run call waits for the outcome before answering 202", false},
        {"run_lease", "30",
         "Seconds a worker's claim on a run lasts without renewal (a lost worker's runs wait this long)", false},
        {"max_runs_in_flight", "512",
         "Runs this process executes at once (across all accounts); 0 on a `serve` sharing a PostgreSQL "
         "database: it only answers the API and other processes run its runs",
         false},
        {"run_retention_days", "30", "Days an ended run and its block log are kept before they are deleted", false},
        {"retention_interval", "600", "Seconds between passes that delete runs past the retention window", false},
        {"scheduler_tick_ms", "1000", "How often the scheduler looks for due schedules, in milliseconds", false},
        {"master_key_file", "",
         "File holding the master key that encrypts datasource secrets (64 hex digits or base64 of 32 bytes); "
         "WEFT_MASTER_KEY holds the key itself. Neither: a development key is generated into the data folder",
         false},
        {"old_master_key_file", "",
         "File holding the previous master key while secrets are re-encrypted (`weft secrets rotate`)", false},
        {"allow_private_network", "false",
         "Let automations call loopback, private and link-local addresses (off: refused after DNS resolution)", true},
        {"test_clock", "false", "Testing only: POST /_test/clock moves the server's clock forward", true},
        {"test_ca_file", "",
         "Testing only: a PEM file of CA certificates automations' https calls trust besides the system store", false},
    };
    return kAll;
}

std::vector<SettingDef> SettingsFor(const std::vector<std::string>& keys) {
    std::vector<SettingDef> out;
    for (const auto& k : keys) {
        for (const auto& d : AllSettings()) {
            if (d.key == k) out.push_back(d);
        }
    }
    return out;
}

Settings::Settings(std::vector<SettingDef> defs) : defs_(std::move(defs)) {
    for (const auto& d : AllSettings()) known_keys_.push_back(d.key);
}

std::string Settings::EnvName(const std::string& key) {
    std::string env = "WEFT_";
    for (char c : key) env.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return env;
}

std::string Settings::FlagName(const std::string& key) {
    std::string flag = "--";
    for (char c : key) flag.push_back(c == '_' ? '-' : c);
    return flag;
}

void Settings::AddTo(CLI::App& app) {
    app.add_option("--config", config_file_, "TOML config file: flat `key = value` lines using the setting names")
        ->envname("WEFT_CONFIG");
    for (const auto& d : defs_) {
        const std::string help = d.help + " [env " + EnvName(d.key) + ", config key " + d.key +
                                 ", default: " + (d.default_value.empty() ? "none" : d.default_value) + "]";
        if (d.is_flag) {
            app.add_flag_callback(
                FlagName(d.key), [this, key = d.key] { flag_values_[key] = "true"; }, help);
        } else {
            app.add_option(FlagName(d.key), flag_values_[d.key], help);
        }
    }
}

void Settings::Resolve() {
    std::map<std::string, std::string> file_values;
    if (!config_file_.empty()) {
        std::vector<CLI::ConfigItem> items;
        try {
            items = CLI::ConfigTOML().from_file(config_file_);
        } catch (const CLI::Error& e) {
            throw std::runtime_error("cannot read config file " + config_file_ + ": " + e.what());
        }
        for (const auto& item : items) {
            std::string name = item.name;
            for (auto it = item.parents.rbegin(); it != item.parents.rend(); ++it) name = *it + "." + name;
            if (item.name == "++" || item.name == "--") continue;  // section markers
            if (std::find(known_keys_.begin(), known_keys_.end(), name) == known_keys_.end()) {
                throw std::runtime_error("unknown key '" + name + "' in config file " + config_file_ +
                                         " (see weft serve --help for the settings)");
            }
            std::string value;
            for (const auto& in : item.inputs) value += in;
            file_values[name] = value;
        }
    }
    for (const auto& d : defs_) {
        auto flag = flag_values_.find(d.key);
        if (flag != flag_values_.end() && !flag->second.empty()) {
            values_[d.key] = flag->second;
        } else if (const char* env = std::getenv(EnvName(d.key).c_str()); env && *env) {
            values_[d.key] = env;
        } else if (auto f = file_values.find(d.key); f != file_values.end()) {
            values_[d.key] = f->second;
        } else {
            values_[d.key] = d.default_value;
        }
    }
}

const std::string& Settings::Str(const std::string& key) const { return values_.at(key); }

long long Settings::Int(const std::string& key, long long min, long long max) const {
    const std::string& v = Str(key);
    try {
        size_t used = 0;
        const long long n = std::stoll(v, &used);
        if (used == v.size() && n >= min && n <= max) return n;
    } catch (const std::exception&) {
    }
    throw std::runtime_error("setting " + key + " must be an integer from " + std::to_string(min) + " to " +
                             std::to_string(max) + ", got '" + v + "'");
}

bool Settings::Bool(const std::string& key) const {
    const std::string& v = Str(key);
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    throw std::runtime_error("setting " + key + " must be true or false, got '" + v + "'");
}

}  // namespace weft::cli
