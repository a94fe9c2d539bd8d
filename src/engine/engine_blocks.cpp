#include <algorithm>
#include <array>
#include <cmath>

#include "engine/conditions.h"
#include "engine/executor.h"
#include "engine/http_policy.h"
#include "engine/value.h"

namespace weft::engine {

namespace {

const char* OpName(VariableOpKind kind) {
    switch (kind) {
        case VariableOpKind::kSet:
            return "set";
        case VariableOpKind::kAppend:
            return "append";
        case VariableOpKind::kMerge:
            return "merge";
        case VariableOpKind::kIncrement:
            return "increment";
        case VariableOpKind::kClear:
            return "clear";
    }
    return "unknown";
}

// The value a `set` stores in a variable of `type`, or a message saying why it cannot.
Result<json::value> Coerce(const json::value& v, VariableType type, const std::string& name) {
    auto refuse = [&](const char* wants) {
        return Error::Invalid("cannot set " + std::string(VariableTypeName(type)) + " variable '" + name + "' to " +
                              KindWithArticle(v) + " (" + wants + ")");
    };
    if (v.is_null()) return EmptyValue(type);
    switch (type) {
        case VariableType::kString:
            return json::value(ToText(v));
        case VariableType::kNumber: {
            auto n = ToNumber(v);
            if (!n || v.is_bool()) return refuse("it needs a number");
            return v.is_number() ? v : NumberValue(*n);
        }
        case VariableType::kList:
            if (!v.is_array()) return refuse("it needs a list");
            return v;
        case VariableType::kObject:
            if (!v.is_object()) return refuse("it needs an object");
            return v;
        case VariableType::kTable:
            if (!v.is_array() || !std::all_of(v.get_array().begin(), v.get_array().end(),
                                              [](const json::value& row) { return row.is_array(); })) {
                return refuse("a table is a list of lists");
            }
            return v;
    }
    return v;
}

}  // namespace

Result<json::value> Executor::Eval(const ValueTemplate& t, std::string_view field) const {
    auto v = Evaluate(t, *this, formulas_);
    if (!v) return Error::Invalid(std::string(field) + ": " + v.error().message);
    return v;
}

std::optional<std::string> Executor::DataLimitExceeded() const {
    const auto limit = engine_.limits().max_data_bytes;
    if (state_.data_bytes <= limit) return std::nullopt;
    return "The run exceeded its limit of " + std::to_string(limit / (1024 * 1024)) +
           " MiB of variable and output data.";
}

std::optional<std::string> Executor::DepthLimitExceeded(const json::value& value) const {
    const auto limit = engine_.limits().max_value_depth;
    if (JsonDepth(value) + 1 <= limit) return std::nullopt;
    return "The run exceeded its limit of " + std::to_string(limit) + " levels of nesting in a value.";
}

Executor::Outcome Executor::Execute(const Block& b) {
    switch (b.type) {
        case BlockType::kOutput:
            return ExecuteOutput(b);
        case BlockType::kVariable:
            return ExecuteVariable(b);
        case BlockType::kCondition:
            return ExecuteCondition(b);
        case BlockType::kLoop:
            return ExecuteLoop(b);
        case BlockType::kExitLoop:
            return {Outcome::Kind::kExitLoop, nullptr, nullptr, {}, std::nullopt};
        case BlockType::kHttp:
            return ExecuteHttp(b);
        case BlockType::kConnector:
            return ExecuteConnector(b);
        case BlockType::kCallAutomation:
            return ExecuteCall(b);
        case BlockType::kSleep:
            return ExecuteSleep(b);
        case BlockType::kError:
            return ExecuteError(b);
        case BlockType::kStop:
            return {Outcome::Kind::kStop, nullptr, nullptr, {}, std::nullopt};
    }
    return Failed(nullptr, "unknown block type");
}

Executor::Outcome Executor::ExecuteOutput(const Block& b) {
    auto value = Eval(b.value, "value");
    if (!value) return Failed(nullptr, value.error().message);
    json::object input{{"value", value.value()}, {"mode", b.append ? "append" : "replace"}};
    if (auto limit = DepthLimitExceeded(value.value())) return Limit(std::move(input), std::move(*limit));
    std::optional<int> status;
    if (b.status) {
        auto s = Eval(*b.status, "status");
        if (!s) return Failed(std::move(input), s.error().message);
        auto code = ToInteger(s.value());
        if (!code || *code < 100 || *code > 599) {
            return Failed(std::move(input),
                          "status: '" + ToText(s.value()) + "' is not an HTTP status code (100..599)");
        }
        status = static_cast<int>(*code);
        input["status"] = *code;
    }
    json::object headers;
    if (b.headers) {
        auto h = Eval(*b.headers, "headers");
        if (!h) return Failed(std::move(input), h.error().message);
        for (const auto& [k, v] : HeadersFromValue(h.value())) headers[k] = v;
        input["headers"] = headers;
    }
    const auto size = static_cast<std::int64_t>(JsonSize(value.value()));
    state_.data_bytes -= state_.output_bytes;
    if (b.append) {
        if (!state_.output_appended) {
            state_.output = json::array{};
            state_.output_appended = true;
            state_.output_bytes = 2;
        }
        state_.output_bytes += size + (state_.output.get_array().empty() ? 0 : 1);
        state_.output.get_array().push_back(value.value());
    } else {
        state_.output = value.value();
        state_.output_appended = false;
        state_.output_bytes = size;
    }
    state_.data_bytes += state_.output_bytes;
    if (status) state_.response_status = status;
    if (b.headers) state_.response_headers = std::move(headers);
    if (auto limit = DataLimitExceeded()) return Limit(std::move(input), std::move(*limit));
    return Done(std::move(input), std::move(value.value()));
}

Executor::Outcome Executor::ExecuteVariable(const Block& b) {
    auto& vars = state_.variables.get_object();
    json::value* var = vars.if_contains(b.variable);
    if (var == nullptr) return Failed(nullptr, "unknown variable '" + b.variable + "'");
    // Objects built with their final capacity: growing a boost::json::object or building one from an
    // initializer list costs a block several hundred instructions more.
    json::array ops_log;
    ops_log.reserve(b.operations.size());
    json::object input(2);
    input.emplace("variable", b.variable);
    const auto* size_entry = state_.variable_bytes.if_contains(b.variable);
    std::int64_t size = size_entry != nullptr && size_entry->is_int64() ? size_entry->get_int64()
                                                                        : static_cast<std::int64_t>(JsonSize(*var));
    const std::int64_t old_size = size;
    for (std::size_t i = 0; i < b.operations.size(); ++i) {
        const auto& op = b.operations[i];
        json::value value;
        if (op.kind != VariableOpKind::kClear) {
            auto v = Evaluate(op.value, *this, formulas_);
            if (!v) {
                input.emplace("operations", std::move(ops_log));
                return Failed(std::move(input), "operations[" + std::to_string(i) + "].value: " + v.error().message);
            }
            value.swap(v.value());
            if (auto limit = DepthLimitExceeded(value)) return Limit(std::move(input), std::move(*limit));
        }
        json::object op_log(2);
        op_log.emplace("op", OpName(op.kind));
        op_log.emplace("value", value);
        ops_log.emplace_back(std::move(op_log));
        std::string error;
        switch (op.kind) {
            case VariableOpKind::kSet: {
                auto coerced = Coerce(value, b.variable_type, b.variable);
                if (!coerced) {
                    error = coerced.error().message;
                    break;
                }
                *var = std::move(coerced.value());
                size = static_cast<std::int64_t>(JsonSize(*var));
                break;
            }
            case VariableOpKind::kAppend: {
                if (!var->is_array()) {
                    error = "cannot append to " + std::string(VariableTypeName(b.variable_type)) + " variable '" +
                            b.variable + "'";
                    break;
                }
                if (b.variable_type == VariableType::kTable && !value.is_array()) {
                    error =
                        "a row appended to table '" + b.variable + "' must be a list, not " + KindWithArticle(value);
                    break;
                }
                size += static_cast<std::int64_t>(JsonSize(value)) + (var->get_array().empty() ? 0 : 1);
                var->get_array().push_back(std::move(value));
                break;
            }
            case VariableOpKind::kMerge: {
                if (!var->is_object()) {
                    error = "cannot merge into " + std::string(VariableTypeName(b.variable_type)) + " variable '" +
                            b.variable + "'";
                    break;
                }
                if (value.is_null()) break;
                if (!value.is_object()) {
                    error = "merge into object '" + b.variable + "' needs an object, not " + KindWithArticle(value);
                    break;
                }
                for (const auto& kv : value.get_object()) var->get_object()[kv.key()] = kv.value();
                size = static_cast<std::int64_t>(JsonSize(*var));
                break;
            }
            case VariableOpKind::kIncrement: {
                auto by = value.is_null() ? std::optional<double>(1) : ToNumber(value);
                auto cur = ToNumber(*var);
                if (!by || !cur || !var->is_number()) {
                    error = "increment of '" + b.variable + "' needs a number, got '" + ToText(value) + "'";
                    break;
                }
                auto ib = ToInteger(value.is_null() ? json::value(1) : value);
                std::int64_t sum = 0;
                if (var->is_int64() && ib && !__builtin_add_overflow(var->get_int64(), *ib, &sum)) {
                    *var = sum;
                } else {
                    *var = NumberValue(*cur + *by);
                }
                size = static_cast<std::int64_t>(JsonSize(*var));
                break;
            }
            case VariableOpKind::kClear:
                *var = EmptyValue(b.variable_type);
                size = static_cast<std::int64_t>(JsonSize(*var));
                break;
        }
        if (!error.empty()) {
            input.emplace("operations", std::move(ops_log));
            state_.variable_bytes[b.variable] = size;
            state_.data_bytes += size - old_size;
            return Failed(std::move(input), error);
        }
    }
    input.emplace("operations", std::move(ops_log));
    state_.variable_bytes[b.variable] = size;
    state_.data_bytes += size - old_size;
    if (auto limit = DataLimitExceeded()) return Limit(std::move(input), std::move(*limit));
    return Done(std::move(input), *var);
}

Executor::Outcome Executor::ExecuteCondition(const Block& b) {
    json::array conds;
    json::object input{{"match", b.match_all ? "all" : "any"}};
    bool result = b.match_all;
    for (std::size_t i = 0; i < b.conditions.size(); ++i) {
        const auto& c = b.conditions[i];
        // Field names are built only for a message: most conditions never need them.
        const auto field = [i](const char* name) { return "conditions[" + std::to_string(i) + "]." + name + ": "; };
        auto left = Evaluate(c.left, *this, formulas_);
        if (!left) return Failed(std::move(input), field("left") + left.error().message);
        auto right = Evaluate(c.right, *this, formulas_);
        if (!right) return Failed(std::move(input), field("right") + right.error().message);
        auto r = ApplyCondition(c, left.value(), right.value());
        if (!r) return Failed(std::move(input), field("op") + r.error().message);
        conds.push_back(json::object{
            {"left", left.value()}, {"op", ConditionOpName(c.op)}, {"right", right.value()}, {"result", r.value()}});
        if (b.match_all) {
            result = result && r.value();
        } else {
            result = result || r.value();
        }
    }
    input["conditions"] = std::move(conds);
    const BlockList& branch = result ? b.then_blocks : b.else_blocks;
    if (!branch.empty()) {
        state_.frames.push_back(Frame{result ? Frame::Kind::kThen : Frame::Kind::kElse, b.id, 0, {}, 0});
    }
    return Done(std::move(input), json::value(result));
}

Executor::Outcome Executor::ExecuteLoop(const Block& b) {
    auto over = Eval(b.over, "over");
    if (!over) return Failed(nullptr, over.error().message);
    json::array items;
    if (over->is_array()) {
        items = std::move(over->get_array());
    } else if (over->is_object()) {
        for (const auto& kv : over->get_object()) {
            items.push_back(json::object{{"key", kv.key()}, {"value", kv.value()}});
        }
    } else if (!over->is_null()) {
        return Failed(json::object{{"over", over.value()}},
                      "over: a loop needs a list or an object, got " + KindWithArticle(over.value()));
    }
    if (b.max_iterations > 0 && static_cast<std::int64_t>(items.size()) > b.max_iterations) {
        items.resize(static_cast<std::size_t>(b.max_iterations));
    }
    const auto count = static_cast<std::int64_t>(items.size());
    json::object input{{"count", count}};
    const auto depth = std::count_if(state_.frames.begin(), state_.frames.end(),
                                     [](const Frame& f) { return f.kind == Frame::Kind::kLoop; });
    if (depth + 1 > engine_.limits().max_loop_depth) {
        return Limit(input, "The run exceeded its loop depth limit of " +
                                std::to_string(engine_.limits().max_loop_depth) + " nested loops.");
    }
    if (count == 0 || b.body.empty()) {
        state_.outputs.get_object()[b.id] = json::object{{"count", b.body.empty() ? count : 0}};
        return Done(std::move(input), json::object{{"count", count}});
    }
    state_.outputs.get_object()[b.id] = json::object{{"item", items[0]}, {"index", 0}, {"count", count}};
    state_.frames.push_back(Frame{Frame::Kind::kLoop, b.id, 0, std::move(items), 0});
    return Done(std::move(input), json::object{{"count", count}});
}

Executor::Outcome Executor::ExecuteHttp(const Block& b) {
    auto method = Eval(b.method, "method");
    if (!method) return Failed(nullptr, method.error().message);
    auto url = Eval(b.url, "url");
    if (!url) return Failed(nullptr, url.error().message);
    json::value query, headers_value, body, datasource;
    for (auto [field, tmpl, out] :
         {std::tuple{"query", &b.query, &query}, std::tuple{"headers", &b.request_headers, &headers_value},
          std::tuple{"body", &b.body_value, &body}, std::tuple{"datasource", &b.datasource, &datasource}}) {
        if (!*tmpl) continue;
        auto v = Eval(**tmpl, field);
        if (!v) return Failed(nullptr, v.error().message);
        *out = std::move(v.value());
    }
    std::string m = ToText(method.value());
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    HttpRequestEffect e;
    e.block_id = b.id;
    e.method = m.empty() ? "GET" : m;
    e.url = AppendQuery(ToText(url.value()), query);
    e.headers = HeadersFromValue(headers_value);
    e.body = BodyFromValue(body, e.headers);
    e.datasource = ToText(datasource);
    e.timeout_ms = b.timeout_ms;
    json::object hdrs;
    for (const auto& [k, v] : e.headers) hdrs[k] = v;
    json::object input{{"method", e.method}, {"url", e.url}, {"headers", std::move(hdrs)}, {"body", body}};
    if (!e.datasource.empty()) input["datasource"] = e.datasource;
    const std::string url_text = ToText(url.value());
    if (!IsHttpUrl(url_text)) {
        return Failed(std::move(input), "url: '" + url_text + "' is not an http:// or https:// URL");
    }
    static constexpr std::array kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    if (std::find(kMethods.begin(), kMethods.end(), e.method) == kMethods.end()) {
        return Failed(std::move(input), "method: '" + e.method + "' is not an HTTP method");
    }
    return {Outcome::Kind::kEffect, std::move(input), nullptr, {}, Effect{std::move(e)}};
}

Executor::Outcome Executor::ExecuteConnector(const Block& b) {
    ConnectorEffect e;
    e.block_id = b.id;
    e.timeout_ms = b.timeout_ms;
    auto connector = Eval(b.connector, "connector");
    if (!connector) return Failed(nullptr, connector.error().message);
    auto endpoint = Eval(b.endpoint, "endpoint");
    if (!endpoint) return Failed(nullptr, endpoint.error().message);
    e.connector = ToText(connector.value());
    e.endpoint = ToText(endpoint.value());
    if (b.datasource) {
        auto d = Eval(*b.datasource, "datasource");
        if (!d) return Failed(nullptr, d.error().message);
        e.datasource = ToText(d.value());
    }
    if (b.params) {
        auto p = Eval(*b.params, "params");
        if (!p) return Failed(nullptr, p.error().message);
        if (p->is_object()) e.params = p->get_object();
    }
    json::object input{{"connector", e.connector}, {"endpoint", e.endpoint}, {"params", e.params}};
    if (!e.datasource.empty()) input["datasource"] = e.datasource;
    return {Outcome::Kind::kEffect, std::move(input), nullptr, {}, Effect{std::move(e)}};
}

Executor::Outcome Executor::ExecuteCall(const Block& b) {
    auto automation = Eval(b.automation, "automation");
    if (!automation) return Failed(nullptr, automation.error().message);
    CallAutomationEffect e;
    e.block_id = b.id;
    e.automation = ToText(automation.value());
    e.async = b.async;
    e.depth = state_.call_depth + 1;
    if (b.call_inputs) {
        auto in = Eval(*b.call_inputs, "inputs");
        if (!in) return Failed(nullptr, in.error().message);
        if (in->is_object()) e.inputs = in->get_object();
    }
    json::object input{{"automation", e.automation}, {"inputs", e.inputs}, {"async", e.async}};
    if (e.depth > engine_.limits().max_call_depth) {
        return Limit(input, "The run exceeded its call_automation depth limit of " +
                                std::to_string(engine_.limits().max_call_depth) + " nested calls.");
    }
    if (e.automation.empty()) return Failed(std::move(input), "automation: the automation name is empty");
    return {Outcome::Kind::kEffect, std::move(input), nullptr, {}, Effect{std::move(e)}};
}

Executor::Outcome Executor::ExecuteSleep(const Block& b) {
    auto seconds = Eval(b.seconds, "seconds");
    if (!seconds) return Failed(nullptr, seconds.error().message);
    json::object input{{"seconds", seconds.value()}};
    const auto max = engine_.limits().max_sleep_seconds;
    auto s = ToNumber(seconds.value());
    if (!s || *s < 0 || *s > static_cast<double>(max)) {
        return Failed(std::move(input), "seconds: '" + ToText(seconds.value()) +
                                            "' is not a number of seconds from 0 to " + std::to_string(max));
    }
    if (*s == 0) return Done(std::move(input), nullptr);
    const Micros until = engine_.clock().Now() + static_cast<Micros>(std::llround(*s * 1e6));
    return {Outcome::Kind::kEffect, std::move(input), nullptr, {}, Effect{SleepEffect{b.id, until, false}}};
}

Executor::Outcome Executor::ExecuteError(const Block& b) {
    auto message = Eval(b.message, "message");
    if (!message) return Failed(nullptr, message.error().message);
    std::string text = ToText(message.value());
    json::object input{{"message", text}, {"stop", b.stop}};
    if (b.stop) return Failed(std::move(input), std::move(text));
    return {Outcome::Kind::kWarning, std::move(input), nullptr, std::move(text), std::nullopt};
}

}  // namespace weft::engine
