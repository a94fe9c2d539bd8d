#pragma once

#include <map>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace weft::cli {

// One setting: a flag (--max-body-bytes), an environment variable (WEFT_MAX_BODY_BYTES), a config-file key
// (max_body_bytes) and a default. Precedence: flag, then environment, then config file, then default.
struct SettingDef {
    std::string key;
    std::string default_value;
    std::string help;
    bool is_flag = false;  // boolean switch: "--x" alone means true
};

class Settings {
  public:
    explicit Settings(std::vector<SettingDef> defs);

    // Adds --config and one option per setting to `app` (a command).
    void AddTo(CLI::App& app);
    // Resolves every value after parsing; throws std::runtime_error naming a bad config key or value.
    void Resolve();

    const std::string& Str(const std::string& key) const;
    long long Int(const std::string& key, long long min, long long max) const;
    bool Bool(const std::string& key) const;

    static std::string EnvName(const std::string& key);
    static std::string FlagName(const std::string& key);

  private:
    std::vector<SettingDef> defs_;
    std::map<std::string, std::string> flag_values_;
    std::map<std::string, bool> given_;
    std::map<std::string, std::string> values_;
    std::string config_file_;
    std::vector<std::string> known_keys_;  // every key of every command: a file may set keys for other commands
};

// Every key any weft command reads from a config file.
const std::vector<SettingDef>& AllSettings();
std::vector<SettingDef> SettingsFor(const std::vector<std::string>& keys);

}  // namespace weft::cli
