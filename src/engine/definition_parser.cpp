#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <set>

#include "engine/definition.h"
#include "engine/definition_faults.h"
#include "engine/definition_fields.h"
#include "engine/definition_validate.h"
#include "engine/http_policy.h"
#include "engine/value.h"

namespace weft::engine {

namespace {

constexpr std::array kFlowNames = {"start", "setup", "settings", "delete"};
constexpr std::array kCommonFields = {"id", "type", "name", "comment", "disabled", "on_error", "retry"};

struct TypeInfo {
    std::string_view name;
    BlockType type;
    std::vector<std::string_view> fields;
};

const std::vector<TypeInfo>& Types() {
    static const std::vector<TypeInfo> types = {
        {"output", BlockType::kOutput, {"value", "mode", "status", "headers"}},
        {"variable", BlockType::kVariable, {"variable", "operations"}},
        {"condition", BlockType::kCondition, {"match", "conditions", "then", "else"}},
        {"loop", BlockType::kLoop, {"over", "do", "max_iterations"}},
        {"exit_loop", BlockType::kExitLoop, {}},
        {"http",
         BlockType::kHttp,
         {"method", "url", "query", "headers", "body", "datasource", "timeout_ms", "response", "accept_status"}},
        {"connector",
         BlockType::kConnector,
         {"connector", "endpoint", "datasource", "params", "timeout_ms", "response", "accept_status"}},
        {"call_automation", BlockType::kCallAutomation, {"automation", "inputs", "async"}},
        {"sleep", BlockType::kSleep, {"seconds"}},
        {"error", BlockType::kError, {"message", "stop"}},
        {"stop", BlockType::kStop, {}},
    };
    return types;
}

const std::array<std::pair<std::string_view, ConditionOp>, 15> kConditionOps = {{
    {"equals", ConditionOp::kEquals},
    {"not_equals", ConditionOp::kNotEquals},
    {"gt", ConditionOp::kGt},
    {"gte", ConditionOp::kGte},
    {"lt", ConditionOp::kLt},
    {"lte", ConditionOp::kLte},
    {"contains", ConditionOp::kContains},
    {"not_contains", ConditionOp::kNotContains},
    {"starts_with", ConditionOp::kStartsWith},
    {"ends_with", ConditionOp::kEndsWith},
    {"is_empty", ConditionOp::kIsEmpty},
    {"is_not_empty", ConditionOp::kIsNotEmpty},
    {"is_true", ConditionOp::kIsTrue},
    {"is_false", ConditionOp::kIsFalse},
    {"matches", ConditionOp::kMatches},
}};

bool IsValidId(std::string_view id) {
    if (id.empty() || !(std::isalpha(static_cast<unsigned char>(id[0])) != 0 || id[0] == '_')) return false;
    return std::all_of(id.begin(), id.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

class Parser : private FieldReader {
  public:
    Parser(const DefinitionLimits& limits, Faults& faults) : FieldReader(faults), limits_(limits) {}

    void ParseDocument(const json::value& doc, Definition& def) {
        if (!doc.is_object()) {
            faults_.Add("", "the definition must be a JSON object");
            return;
        }
        const auto& obj = doc.get_object();
        for (const auto& kv : obj) {
            static constexpr std::array kTop = {"schema", "run_mode", "async_trigger", "inputs", "variables", "flows"};
            if (std::find(kTop.begin(), kTop.end(), std::string_view(kv.key())) == kTop.end()) {
                faults_.Add(std::string(kv.key()), "unknown field");
            }
        }
        if (const auto* s = obj.if_contains("schema")) {
            if (!s->is_int64() || s->get_int64() != 1) faults_.Add("schema", "must be 1");
        }
        if (const auto* m = obj.if_contains("run_mode")) {
            const std::string mode = m->is_string() ? std::string(m->get_string()) : "";
            if (mode == "manual") {
                def.run_mode = RunMode::kManual;
            } else if (mode == "scheduled") {
                def.run_mode = RunMode::kScheduled;
            } else if (mode == "triggered") {
                def.run_mode = RunMode::kTriggered;
            } else {
                faults_.Add("run_mode", "must be \"manual\", \"scheduled\" or \"triggered\"");
            }
        }
        def.async_trigger = Bool(obj, "async_trigger", "async_trigger", false);
        if (const auto* v = obj.if_contains("variables")) ParseVariables(*v, def);
        if (const auto* i = obj.if_contains("inputs")) ParseInputs(*i, def);
        const auto* flows = obj.if_contains("flows");
        if (flows == nullptr || !flows->is_object()) {
            faults_.Add("flows", flows == nullptr ? "is required" : "must be an object of flows");
            return;
        }
        for (const auto& kv : flows->get_object()) {
            const std::string name(kv.key());
            const std::string path = "flows." + name;
            if (std::find(kFlowNames.begin(), kFlowNames.end(), name) == kFlowNames.end()) {
                faults_.Add(path, "unknown flow (start, setup, settings, delete)");
                continue;
            }
            def.flows[name] = ParseBlocks(kv.value(), path);
        }
        if (!flows->get_object().contains("start")) faults_.Add("flows.start", "is required");
    }

  private:
    void ParseVariables(const json::value& v, Definition& def) {
        if (!v.is_array()) {
            faults_.Add("variables", "must be a list");
            return;
        }
        std::set<std::string> seen;
        for (std::size_t i = 0; i < v.get_array().size(); ++i) {
            const std::string path = "variables[" + std::to_string(i) + "]";
            const auto& item = v.get_array()[i];
            if (!item.is_object()) {
                faults_.Add(path, "must be an object {name, type}");
                continue;
            }
            VariableSpec spec;
            spec.name = String(item.get_object(), "name", path + ".name", true);
            if (!spec.name.empty() && !IsValidId(spec.name)) {
                faults_.Add(path + ".name", "must match [A-Za-z_][A-Za-z0-9_]*");
            } else if (!spec.name.empty() && !seen.insert(spec.name).second) {
                faults_.Add(path + ".name", "duplicate variable '" + spec.name + "'");
            }
            const std::string type = String(item.get_object(), "type", path + ".type", true);
            static const std::map<std::string, VariableType, std::less<>> kTypes = {{"string", VariableType::kString},
                                                                                    {"number", VariableType::kNumber},
                                                                                    {"list", VariableType::kList},
                                                                                    {"object", VariableType::kObject},
                                                                                    {"table", VariableType::kTable}};
            if (auto it = kTypes.find(type); it != kTypes.end()) {
                spec.type = it->second;
            } else if (!type.empty()) {
                faults_.Add(path + ".type",
                            "unknown variable type '" + type + "' (string, number, list, object, table)");
            }
            def.variables.push_back(std::move(spec));
        }
    }

    void ParseInputs(const json::value& v, Definition& def) {
        if (!v.is_array()) {
            faults_.Add("inputs", "must be a list");
            return;
        }
        std::set<std::string> seen;
        for (std::size_t i = 0; i < v.get_array().size(); ++i) {
            const std::string path = "inputs[" + std::to_string(i) + "]";
            const auto& item = v.get_array()[i];
            if (!item.is_object()) {
                faults_.Add(path, "must be an object");
                continue;
            }
            const auto& obj = item.get_object();
            InputSpec spec;
            spec.block_id = String(obj, "block_id", path + ".block_id", false);
            spec.flow = String(obj, "flow", path + ".flow", false);
            if (spec.flow.empty()) spec.flow = "start";
            if (spec.flow != "start" && spec.flow != "setup" && spec.flow != "settings") {
                faults_.Add(path + ".flow", "must be \"start\", \"setup\" or \"settings\"");
            }
            spec.field_name = String(obj, "field_name", path + ".field_name", true);
            if (!spec.field_name.empty() && !seen.insert(spec.field_name).second) {
                faults_.Add(path + ".field_name", "duplicate input '" + spec.field_name + "'");
            }
            spec.prompt = String(obj, "prompt", path + ".prompt", false);
            const std::string type = String(obj, "type", path + ".type", false);
            static const std::map<std::string, InputType, std::less<>> kTypes = {
                {"string", InputType::kString},        {"number", InputType::kNumber}, {"integer", InputType::kInteger},
                {"boolean", InputType::kBoolean},      {"object", InputType::kObject}, {"list", InputType::kList},
                {"datasource", InputType::kDatasource}};
            if (type.empty()) {
                spec.type = InputType::kString;
            } else if (auto it = kTypes.find(type); it != kTypes.end()) {
                spec.type = it->second;
            } else {
                faults_.Add(path + ".type", "unknown input type '" + type +
                                                "' (string, number, integer, boolean, object, list, datasource)");
            }
            spec.required = Bool(obj, "required", path + ".required", false);
            spec.persisted = Bool(obj, "persisted", path + ".persisted", false);
            spec.connector = String(obj, "connector", path + ".connector", false);
            if (const auto* d = obj.if_contains("default")) spec.default_value = *d;
            for (const auto& kv : obj) {
                static constexpr std::array kKnown = {"block_id", "flow",      "field_name", "prompt",   "type",
                                                      "required", "persisted", "default",    "connector"};
                if (std::find(kKnown.begin(), kKnown.end(), std::string_view(kv.key())) == kKnown.end()) {
                    faults_.Add(path + "." + std::string(kv.key()), "unknown field");
                }
            }
            def.inputs.push_back(std::move(spec));
        }
    }

    BlockList ParseBlocks(const json::value& v, const std::string& path) {
        BlockList out;
        if (!v.is_array()) {
            faults_.Add(path, "must be a list of blocks");
            return out;
        }
        const auto& arr = v.get_array();
        out.reserve(arr.size());
        for (std::size_t i = 0; i < arr.size(); ++i) {
            out.push_back(ParseBlock(arr[i], path + "[" + std::to_string(i) + "]"));
        }
        return out;
    }

    void ParseRetry(const json::value& v, const std::string& path, RetryPolicy& retry) {
        if (!v.is_object()) {
            faults_.Add(path, "must be an object {max_attempts, backoff, delay_ms, max_delay_ms}");
            return;
        }
        const auto& obj = v.get_object();
        for (const auto& kv : obj) {
            static constexpr std::array kKnown = {"max_attempts", "backoff", "delay_ms", "max_delay_ms"};
            if (std::find(kKnown.begin(), kKnown.end(), std::string_view(kv.key())) == kKnown.end()) {
                faults_.Add(path + "." + std::string(kv.key()), "unknown field");
            }
        }
        if (auto n = Integer(obj, "max_attempts", path + ".max_attempts", 1, 10))
            retry.max_attempts = static_cast<int>(*n);
        const std::string backoff = String(obj, "backoff", path + ".backoff", false);
        if (backoff == "exponential") {
            retry.backoff = Backoff::kExponential;
        } else if (!backoff.empty() && backoff != "fixed") {
            faults_.Add(path + ".backoff", "must be \"fixed\" or \"exponential\"");
        }
        if (auto d = Integer(obj, "delay_ms", path + ".delay_ms", 0, 3600000)) retry.delay_ms = *d;
        if (auto d = Integer(obj, "max_delay_ms", path + ".max_delay_ms", 0, 3600000)) retry.max_delay_ms = *d;
        if (retry.max_delay_ms < retry.delay_ms) {
            if (obj.contains("max_delay_ms")) {
                faults_.Add(path + ".max_delay_ms", "must not be less than delay_ms");
            } else {
                retry.max_delay_ms = retry.delay_ms;
            }
        }
    }

    Block ParseBlock(const json::value& v, const std::string& path) {
        Block b;
        b.path = path;
        if (!v.is_object()) {
            faults_.Add(path, "a block must be an object");
            return b;
        }
        const auto& obj = v.get_object();
        b.id = String(obj, "id", path + ".id", true);
        if (!b.id.empty() && !IsValidId(b.id)) {
            faults_.Add(path + ".id", "'" + b.id + "' is not a valid id ([A-Za-z_][A-Za-z0-9_]*)");
        }
        const std::string type = String(obj, "type", path + ".type", true);
        const TypeInfo* info = nullptr;
        for (const auto& t : Types()) {
            if (t.name == type) info = &t;
        }
        if (info == nullptr) {
            if (!type.empty()) faults_.Add(path + ".type", "unknown block type '" + type + "'");
            return b;
        }
        b.type = info->type;
        for (const auto& kv : obj) {
            const std::string_view key = kv.key();
            if (std::find(kCommonFields.begin(), kCommonFields.end(), key) == kCommonFields.end() &&
                std::find(info->fields.begin(), info->fields.end(), key) == info->fields.end()) {
                faults_.Add(path + "." + std::string(key), "unknown field for a " + type + " block");
            }
        }
        b.name = String(obj, "name", path + ".name", false);
        b.comment = String(obj, "comment", path + ".comment", false);
        b.disabled = Bool(obj, "disabled", path + ".disabled", false);
        const std::string on_error = String(obj, "on_error", path + ".on_error", false);
        if (on_error == "warning") {
            b.on_error = OnError::kWarning;
        } else if (on_error == "ignore") {
            b.on_error = OnError::kIgnore;
        } else if (!on_error.empty() && on_error != "stop") {
            faults_.Add(path + ".on_error", "must be \"stop\", \"warning\" or \"ignore\"");
        }
        if (const auto* r = obj.if_contains("retry"); r != nullptr && !r->is_null())
            ParseRetry(*r, path + ".retry", b.retry);
        ParseTypeFields(obj, path, b);
        return b;
    }

    void ParseResponseFields(const json::object& obj, const std::string& path, Block& b) {
        if (auto t = Integer(obj, "timeout_ms", path + ".timeout_ms", 1, limits_.max_timeout_ms)) b.timeout_ms = *t;
        const std::string response = String(obj, "response", path + ".response", false);
        if (response == "json") {
            b.response = ResponseMode::kJson;
        } else if (response == "text") {
            b.response = ResponseMode::kText;
        } else if (!response.empty() && response != "auto") {
            faults_.Add(path + ".response", "must be \"auto\", \"json\" or \"text\"");
        }
        if (const auto* a = obj.if_contains("accept_status"); a != nullptr && !a->is_null()) {
            bool ok = a->is_array();
            if (ok) {
                for (const auto& s : a->get_array()) {
                    if (!s.is_int64() || s.get_int64() < 100 || s.get_int64() > 599) {
                        ok = false;
                        break;
                    }
                    b.accept_status.push_back(static_cast<int>(s.get_int64()));
                }
            }
            if (!ok) faults_.Add(path + ".accept_status", "must be a list of HTTP status codes (100..599)");
        }
    }

    void ParseTypeFields(const json::object& obj, const std::string& path, Block& b) {
        auto field = [&](std::string_view key) { return path + "." + std::string(key); };
        switch (b.type) {
            case BlockType::kOutput: {
                if (auto t = TemplateField(obj, "value", field("value"), false)) b.value = std::move(*t);
                const std::string mode = String(obj, "mode", field("mode"), false);
                if (mode == "append") {
                    b.append = true;
                } else if (!mode.empty() && mode != "replace") {
                    faults_.Add(field("mode"), "must be \"replace\" or \"append\"");
                }
                if (const auto* s = obj.if_contains("status"); s != nullptr && !s->is_null()) {
                    if (s->is_int64() && (s->get_int64() < 100 || s->get_int64() > 599)) {
                        faults_.Add(field("status"), "must be an HTTP status code (100..599)");
                    } else if (!s->is_int64() && !s->is_string()) {
                        faults_.Add(field("status"), "must be an HTTP status code or a template");
                    } else {
                        b.status = TemplateField(obj, "status", field("status"), false);
                    }
                }
                b.headers = ObjectTemplate(obj, "headers", field("headers"));
                break;
            }
            case BlockType::kVariable: {
                b.variable = String(obj, "variable", field("variable"), true);
                const auto* ops = obj.if_contains("operations");
                if (ops == nullptr || !ops->is_array()) {
                    faults_.Add(field("operations"), ops == nullptr ? "is required" : "must be a list");
                    break;
                }
                for (std::size_t i = 0; i < ops->get_array().size(); ++i) {
                    const std::string op_path = field("operations") + "[" + std::to_string(i) + "]";
                    const auto& op = ops->get_array()[i];
                    if (!op.is_object()) {
                        faults_.Add(op_path, "must be an object {op, value}");
                        continue;
                    }
                    VariableOp vop;
                    const std::string name = String(op.get_object(), "op", op_path + ".op", true);
                    static const std::map<std::string, VariableOpKind, std::less<>> kOps = {
                        {"set", VariableOpKind::kSet},
                        {"append", VariableOpKind::kAppend},
                        {"merge", VariableOpKind::kMerge},
                        {"increment", VariableOpKind::kIncrement},
                        {"clear", VariableOpKind::kClear}};
                    if (auto it = kOps.find(name); it != kOps.end()) {
                        vop.kind = it->second;
                    } else if (!name.empty()) {
                        faults_.Add(op_path + ".op",
                                    "unknown operation '" + name + "' (set, append, merge, increment, clear)");
                        continue;
                    }
                    const bool needs_value =
                        vop.kind != VariableOpKind::kClear && vop.kind != VariableOpKind::kIncrement;
                    if (auto t = TemplateField(op.get_object(), "value", op_path + ".value", needs_value)) {
                        vop.value = std::move(*t);
                    } else if (vop.kind == VariableOpKind::kIncrement) {
                        vop.value = ValueTemplate{json::value(1)};
                    }
                    b.operations.push_back(std::move(vop));
                }
                break;
            }
            case BlockType::kCondition: {
                const std::string match = String(obj, "match", field("match"), false);
                if (match == "any") {
                    b.match_all = false;
                } else if (!match.empty() && match != "all") {
                    faults_.Add(field("match"), "must be \"all\" or \"any\"");
                }
                ParseConditions(obj, field("conditions"), b);
                if (const auto* t = obj.if_contains("then")) b.then_blocks = ParseBlocks(*t, field("then"));
                if (const auto* e = obj.if_contains("else")) b.else_blocks = ParseBlocks(*e, field("else"));
                break;
            }
            case BlockType::kLoop: {
                if (auto t = TemplateField(obj, "over", field("over"), true)) b.over = std::move(*t);
                if (const auto* d = obj.if_contains("do")) {
                    b.body = ParseBlocks(*d, field("do"));
                } else {
                    faults_.Add(field("do"), "is required");
                }
                if (auto m = Integer(obj, "max_iterations", field("max_iterations"), 1, 1000000)) b.max_iterations = *m;
                break;
            }
            case BlockType::kHttp: {
                if (auto t = TemplateField(obj, "method", field("method"), false, true)) {
                    b.method = std::move(*t);
                    if (const auto* lit = std::get_if<json::value>(&b.method.node)) {
                        static constexpr std::array kMethods = {"GET",    "POST", "PUT",    "PATCH",
                                                                "DELETE", "HEAD", "OPTIONS"};
                        std::string m(lit->get_string());
                        std::transform(m.begin(), m.end(), m.begin(),
                                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
                        if (std::find(kMethods.begin(), kMethods.end(), m) == kMethods.end()) {
                            faults_.Add(field("method"),
                                        "unknown HTTP method '" + std::string(lit->get_string()) + "'");
                        }
                        b.method = ValueTemplate{json::value(m)};
                    }
                } else {
                    b.method = ValueTemplate{json::value("GET")};
                }
                if (auto t = TemplateField(obj, "url", field("url"), true, true)) {
                    b.url = std::move(*t);
                    const auto* lit = std::get_if<json::value>(&b.url.node);
                    if (lit != nullptr && !IsHttpUrl(lit->get_string())) {
                        faults_.Add(field("url"), "must start with http:// or https://");
                    }
                }
                b.query = ObjectTemplate(obj, "query", field("query"));
                b.request_headers = ObjectTemplate(obj, "headers", field("headers"));
                b.body_value = TemplateField(obj, "body", field("body"), false);
                b.datasource = TemplateField(obj, "datasource", field("datasource"), false, true);
                ParseResponseFields(obj, path, b);
                break;
            }
            case BlockType::kConnector: {
                if (auto t = TemplateField(obj, "connector", field("connector"), true, true))
                    b.connector = std::move(*t);
                if (auto t = TemplateField(obj, "endpoint", field("endpoint"), true, true)) b.endpoint = std::move(*t);
                b.datasource = TemplateField(obj, "datasource", field("datasource"), false, true);
                b.params = ObjectTemplate(obj, "params", field("params"));
                ParseResponseFields(obj, path, b);
                break;
            }
            case BlockType::kCallAutomation: {
                if (auto t = TemplateField(obj, "automation", field("automation"), true, true))
                    b.automation = std::move(*t);
                b.call_inputs = ObjectTemplate(obj, "inputs", field("inputs"));
                b.async = Bool(obj, "async", field("async"), false);
                break;
            }
            case BlockType::kSleep: {
                const auto* s = obj.if_contains("seconds");
                if (s != nullptr && s->is_number()) {
                    const double secs = s->is_double() ? s->get_double() : static_cast<double>(s->to_number<double>());
                    if (secs < 0 || secs > static_cast<double>(limits_.max_sleep_seconds)) {
                        faults_.Add(field("seconds"),
                                    "must be from 0 to " + std::to_string(limits_.max_sleep_seconds) + " seconds");
                    }
                } else if (s != nullptr && s->is_string()) {
                    const auto secs = ToNumber(*s);
                    if (secs && (*secs < 0 || *secs > static_cast<double>(limits_.max_sleep_seconds))) {
                        faults_.Add(field("seconds"),
                                    "must be from 0 to " + std::to_string(limits_.max_sleep_seconds) + " seconds");
                    }
                } else if (s != nullptr) {
                    faults_.Add(field("seconds"), "must be a number of seconds or a template");
                }
                if (auto t = TemplateField(obj, "seconds", field("seconds"), true)) b.seconds = std::move(*t);
                break;
            }
            case BlockType::kError: {
                if (auto t = TemplateField(obj, "message", field("message"), true)) b.message = std::move(*t);
                b.stop = Bool(obj, "stop", field("stop"), true);
                break;
            }
            case BlockType::kExitLoop:
            case BlockType::kStop:
                break;
        }
    }

    void ParseConditions(const json::object& obj, const std::string& path, Block& b) {
        const auto* conds = obj.if_contains("conditions");
        if (conds == nullptr || !conds->is_array()) {
            faults_.Add(path, conds == nullptr ? "is required" : "must be a list of {left, op, right}");
            return;
        }
        for (std::size_t i = 0; i < conds->get_array().size(); ++i) {
            const std::string cpath = path + "[" + std::to_string(i) + "]";
            const auto& c = conds->get_array()[i];
            if (!c.is_object()) {
                faults_.Add(cpath, "must be an object {left, op, right}");
                continue;
            }
            Condition cond;
            const std::string op = String(c.get_object(), "op", cpath + ".op", true);
            auto it =
                std::find_if(kConditionOps.begin(), kConditionOps.end(), [&](const auto& p) { return p.first == op; });
            if (it == kConditionOps.end()) {
                if (!op.empty()) faults_.Add(cpath + ".op", "unknown condition operator '" + op + "'");
                continue;
            }
            cond.op = it->second;
            const bool unary = cond.op == ConditionOp::kIsEmpty || cond.op == ConditionOp::kIsNotEmpty ||
                               cond.op == ConditionOp::kIsTrue || cond.op == ConditionOp::kIsFalse;
            if (auto l = TemplateField(c.get_object(), "left", cpath + ".left", true)) cond.left = std::move(*l);
            if (auto r = TemplateField(c.get_object(), "right", cpath + ".right", !unary)) cond.right = std::move(*r);
            if (cond.op == ConditionOp::kMatches) {
                if (const auto* lit = std::get_if<json::value>(&cond.right.node); lit != nullptr && lit->is_string()) {
                    RE2::Options options;
                    options.set_log_errors(false);
                    auto re = std::make_shared<const RE2>(std::string(lit->get_string()), options);
                    if (!re->ok()) {
                        faults_.Add(cpath + ".right", "invalid regular expression: " + re->error());
                    } else {
                        cond.regex = std::move(re);
                    }
                }
            }
            b.conditions.push_back(std::move(cond));
        }
    }

    const DefinitionLimits& limits_;
};

void IndexBlocks(const BlockList& blocks, Definition& def) {
    for (const auto& b : blocks) {
        if (!b.id.empty()) def.blocks_by_id.emplace(b.id, &b);
        IndexBlocks(b.then_blocks, def);
        IndexBlocks(b.else_blocks, def);
        IndexBlocks(b.body, def);
    }
}

}  // namespace

const char* BlockTypeName(BlockType type) {
    for (const auto& t : Types()) {
        if (t.type == type) return t.name.data();
    }
    return "unknown";
}

Result<std::shared_ptr<const Definition>> ParseDefinition(const json::value& doc, const DefinitionLimits& limits) {
    auto def = std::make_shared<Definition>();
    Faults faults;
    Parser(limits, faults).ParseDocument(doc, *def);
    ValidateDefinition(*def, limits, faults);
    if (!faults.empty()) {
        return Error{ErrorCode::kInvalidDefinition, "The automation definition is invalid.", {}, faults.Take()};
    }
    for (const auto& [name, blocks] : def->flows) IndexBlocks(blocks, *def);
    return std::shared_ptr<const Definition>(std::move(def));
}

Result<std::shared_ptr<const Definition>> ParseDefinitionText(std::string_view text, const DefinitionLimits& limits) {
    auto doc = ParseJson(text);
    if (!doc) {
        return Error{ErrorCode::kInvalidDefinition,
                     "The automation definition is invalid.",
                     {},
                     FieldErrors{{"", {doc.error().message}}}};
    }
    return ParseDefinition(doc.value(), limits);
}

}  // namespace weft::engine
