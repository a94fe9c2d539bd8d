#include "engine/expr_eval.h"

#include <charconv>

#include "engine/value.h"

namespace weft::engine {

namespace {

const json::value* Step(const json::value* cur, const PathStep& step) {
    if (cur == nullptr) return nullptr;
    if (cur->is_object()) return cur->get_object().if_contains(step.key);
    if (cur->is_array()) {
        std::int64_t index = step.index;
        if (!step.is_index) {
            auto r = std::from_chars(step.key.data(), step.key.data() + step.key.size(), index);
            if (r.ec != std::errc() || r.ptr != step.key.data() + step.key.size()) return nullptr;
        }
        const auto& arr = cur->get_array();
        const auto size = static_cast<std::int64_t>(arr.size());
        if (index < 0) index += size;
        if (index < 0 || index >= size) return nullptr;
        return &arr[static_cast<std::size_t>(index)];
    }
    return nullptr;
}

}  // namespace

json::value Resolve(const Reference& ref, const Scope& scope) {
    const json::value* cur = scope.Root(ref.steps[0].key);
    for (std::size_t i = 1; i < ref.steps.size() && cur != nullptr; ++i) cur = Step(cur, ref.steps[i]);
    return cur == nullptr ? json::value(nullptr) : *cur;
}

Result<json::value> Evaluate(const Expr& e, const Scope& scope, const FormulaContext& ctx) {
    if (const auto* lit = std::get_if<json::value>(&e.node)) return *lit;
    if (const auto* ref = std::get_if<Reference>(&e.node)) return Resolve(*ref, scope);
    const auto& call = std::get<FormulaCall>(e.node);
    std::vector<json::value> args;
    args.reserve(call.args.size());
    for (const auto& a : call.args) {
        auto v = Evaluate(a, scope, ctx);
        if (!v) return v;
        args.push_back(std::move(v.value()));
    }
    return call.spec->fn(args, ctx);
}

Result<json::value> Evaluate(const Template& t, const Scope& scope, const FormulaContext& ctx) {
    if (t.whole) return Evaluate(std::get<Expr>(t.parts[0]), scope, ctx);
    std::string out;
    for (const auto& part : t.parts) {
        if (const auto* s = std::get_if<std::string>(&part)) {
            out += *s;
            continue;
        }
        auto v = Evaluate(std::get<Expr>(part), scope, ctx);
        if (!v) return v;
        out += ToText(v.value());
    }
    return json::value(out);
}

Result<json::value> Evaluate(const ValueTemplate& t, const Scope& scope, const FormulaContext& ctx) {
    if (const auto* lit = std::get_if<json::value>(&t.node)) return *lit;
    if (const auto* tt = std::get_if<Template>(&t.node)) return Evaluate(*tt, scope, ctx);
    if (const auto* arr = std::get_if<ValueTemplate::Array>(&t.node)) {
        json::array out;
        out.reserve(arr->size());
        for (const auto& e : *arr) {
            auto v = Evaluate(e, scope, ctx);
            if (!v) return v;
            out.push_back(std::move(v.value()));
        }
        return json::value(std::move(out));
    }
    json::object out;
    for (const auto& kv : std::get<ValueTemplate::Object>(t.node)) {
        auto v = Evaluate(kv.second, scope, ctx);
        if (!v) return v;
        out[kv.first] = std::move(v.value());
    }
    return json::value(std::move(out));
}

}  // namespace weft::engine
