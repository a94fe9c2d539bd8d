#include "engine/effects.h"

namespace weft::engine {

namespace {

json::array HeadersToJson(const HeaderList& headers) {
    json::array out;
    for (const auto& [k, v] : headers) out.push_back(json::array{json::value(k), json::value(v)});
    return out;
}

HeaderList HeadersFromJson(const json::value* v) {
    HeaderList out;
    if (v == nullptr || !v->is_array()) return out;
    for (const auto& h : v->get_array()) {
        if (h.is_array() && h.get_array().size() == 2 && h.get_array()[0].is_string() && h.get_array()[1].is_string()) {
            out.emplace_back(std::string(h.get_array()[0].get_string()), std::string(h.get_array()[1].get_string()));
        }
    }
    return out;
}

std::string Str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t Int(const json::object& o, std::string_view key, std::int64_t fallback) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_int64() ? v->get_int64() : fallback;
}

bool Bool(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->get_bool();
}

json::object Obj(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? v->get_object() : json::object{};
}

}  // namespace

json::value EffectToJson(const Effect& e) {
    if (const auto* h = std::get_if<HttpRequestEffect>(&e)) {
        return json::object{{"kind", "http"},
                            {"block_id", h->block_id},
                            {"attempt", h->attempt},
                            {"method", h->method},
                            {"url", h->url},
                            {"headers", HeadersToJson(h->headers)},
                            {"body", h->body},
                            {"datasource", h->datasource},
                            {"timeout_ms", h->timeout_ms}};
    }
    if (const auto* c = std::get_if<ConnectorEffect>(&e)) {
        return json::object{{"kind", "connector"},       {"block_id", c->block_id},    {"attempt", c->attempt},
                            {"connector", c->connector}, {"endpoint", c->endpoint},    {"datasource", c->datasource},
                            {"params", c->params},       {"timeout_ms", c->timeout_ms}};
    }
    if (const auto* s = std::get_if<SleepEffect>(&e)) {
        return json::object{
            {"kind", "sleep"}, {"block_id", s->block_id}, {"until", s->until}, {"retry_delay", s->retry_delay}};
    }
    const auto& call = std::get<CallAutomationEffect>(e);
    return json::object{{"kind", "call_automation"}, {"block_id", call.block_id}, {"automation", call.automation},
                        {"inputs", call.inputs},     {"async", call.async},       {"depth", call.depth}};
}

Result<Effect> EffectFromJson(const json::value& v) {
    if (!v.is_object()) return Error::Invalid("an effect must be an object");
    const auto& o = v.get_object();
    const std::string kind = Str(o, "kind");
    if (kind == "http") {
        HttpRequestEffect h;
        h.block_id = Str(o, "block_id");
        h.attempt = static_cast<int>(Int(o, "attempt", 1));
        h.method = Str(o, "method");
        h.url = Str(o, "url");
        h.headers = HeadersFromJson(o.if_contains("headers"));
        h.body = Str(o, "body");
        h.datasource = Str(o, "datasource");
        h.timeout_ms = Int(o, "timeout_ms", 60000);
        return Effect{std::move(h)};
    }
    if (kind == "connector") {
        ConnectorEffect c;
        c.block_id = Str(o, "block_id");
        c.attempt = static_cast<int>(Int(o, "attempt", 1));
        c.connector = Str(o, "connector");
        c.endpoint = Str(o, "endpoint");
        c.datasource = Str(o, "datasource");
        c.params = Obj(o, "params");
        c.timeout_ms = Int(o, "timeout_ms", 60000);
        return Effect{std::move(c)};
    }
    if (kind == "sleep") {
        return Effect{SleepEffect{Str(o, "block_id"), Int(o, "until", 0), Bool(o, "retry_delay")}};
    }
    if (kind == "call_automation") {
        return Effect{CallAutomationEffect{Str(o, "block_id"), Str(o, "automation"), Obj(o, "inputs"), Bool(o, "async"),
                                           static_cast<int>(Int(o, "depth", 1))}};
    }
    return Error::Invalid("unknown effect kind '" + kind + "'");
}

json::value EffectResultToJson(const EffectResult& r) {
    if (const auto* h = std::get_if<HttpResult>(&r)) {
        json::object o{{"kind", "http"}, {"error", static_cast<int>(h->error)}, {"error_message", h->error_message}};
        if (h->response) {
            o["response"] = json::object{{"status", h->response->status},
                                         {"headers", HeadersToJson(h->response->headers)},
                                         {"body", h->response->body}};
        }
        if (h->mapped) o["mapped"] = *h->mapped;
        if (h->request) o["request"] = *h->request;
        return o;
    }
    if (std::holds_alternative<SleepDone>(r)) return json::object{{"kind", "sleep"}};
    const auto& c = std::get<CallResult>(r);
    return json::object{{"kind", "call"}, {"ok", c.ok}, {"value", c.value}, {"error_message", c.error_message}};
}

Result<EffectResult> EffectResultFromJson(const json::value& v) {
    if (!v.is_object()) return Error::Invalid("an effect result must be an object");
    const auto& o = v.get_object();
    const std::string kind = Str(o, "kind");
    if (kind == "http") {
        HttpResult h;
        const auto err = Int(o, "error", 0);
        if (err < 0 || err > static_cast<int>(TransportError::kBlocked)) return Error::Invalid("bad transport error");
        h.error = static_cast<TransportError>(err);
        h.error_message = Str(o, "error_message");
        if (const auto* resp = o.if_contains("response"); resp != nullptr && resp->is_object()) {
            HttpResponse r;
            r.status = static_cast<int>(Int(resp->get_object(), "status", 0));
            r.headers = HeadersFromJson(resp->get_object().if_contains("headers"));
            r.body = Str(resp->get_object(), "body");
            h.response = std::move(r);
        }
        if (const auto* m = o.if_contains("mapped")) h.mapped = *m;
        if (const auto* q = o.if_contains("request")) h.request = *q;
        return EffectResult{std::move(h)};
    }
    if (kind == "sleep") return EffectResult{SleepDone{}};
    if (kind == "call") {
        CallResult c;
        c.ok = Bool(o, "ok");
        if (const auto* val = o.if_contains("value")) c.value = *val;
        c.error_message = Str(o, "error_message");
        return EffectResult{std::move(c)};
    }
    return Error::Invalid("unknown effect result kind '" + kind + "'");
}

}  // namespace weft::engine
