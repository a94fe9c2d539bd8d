#include <boost/json/serialize.hpp>

#include <algorithm>

#include "engine/formula.h"
#include "engine/formula_util.h"

namespace weft::engine {

namespace {

using Args = std::span<const json::value>;

Result<json::value> ObjectFormula(Args a, const FormulaContext&) {
    const auto& v = Arg(a, 0);
    if (v.is_object() || v.is_array() || v.is_null()) return v;
    auto parsed = ParseJson(ToText(v));
    if (!parsed) return FormulaError("object", "the text is not valid JSON");
    return std::move(parsed.value());
}

Result<json::value> JsonFormula(Args a, const FormulaContext&) { return json::value(json::serialize(Arg(a, 0))); }

Result<json::value> Keys(Args a, const FormulaContext&) {
    json::array out;
    if (Arg(a, 0).is_object()) {
        for (const auto& kv : a[0].get_object()) out.emplace_back(kv.key());
    } else if (Arg(a, 0).is_array()) {
        for (std::size_t i = 0; i < a[0].get_array().size(); ++i) out.emplace_back(static_cast<std::int64_t>(i));
    }
    return json::value(std::move(out));
}

Result<json::value> Values(Args a, const FormulaContext&) {
    if (Arg(a, 0).is_array()) return a[0];
    json::array out;
    if (Arg(a, 0).is_object()) {
        for (const auto& kv : a[0].get_object()) out.push_back(kv.value());
    }
    return json::value(std::move(out));
}

// Follows "a.b[0].c" (or a single key / index given as a number) into `v`.
const json::value* FollowPath(const json::value& v, const json::value& path) {
    const json::value* cur = &v;
    auto step = [&](const std::string& key) {
        if (cur == nullptr) return;
        if (cur->is_object()) {
            cur = cur->get_object().if_contains(key);
        } else if (cur->is_array()) {
            auto i = ToInteger(json::value(key));
            const auto& arr = cur->get_array();
            cur = (i && *i >= 0 && static_cast<std::size_t>(*i) < arr.size()) ? &arr[static_cast<std::size_t>(*i)]
                                                                              : nullptr;
        } else {
            cur = nullptr;
        }
    };
    const std::string p = ToText(path);
    std::string key;
    for (char c : p) {
        if (c == '.' || c == '[' || c == ']') {
            if (!key.empty()) step(key);
            key.clear();
        } else {
            key += c;
        }
    }
    if (!key.empty()) step(key);
    return cur;
}

Result<json::value> Get(Args a, const FormulaContext&) {
    const json::value* found = FollowPath(Arg(a, 0), Arg(a, 1));
    if (found == nullptr || found->is_null()) return Arg(a, 2);
    return *found;
}

Result<json::value> Default(Args a, const FormulaContext&) {
    const auto& v = Arg(a, 0);
    if (v.is_null() || (v.is_string() && v.get_string().empty())) return Arg(a, 1);
    return v;
}

Result<json::value> Count(Args a, const FormulaContext&) {
    const auto& v = Arg(a, 0);
    if (v.is_array()) return json::value(static_cast<std::int64_t>(v.get_array().size()));
    if (v.is_object()) return json::value(static_cast<std::int64_t>(v.get_object().size()));
    if (v.is_null()) return json::value(0);
    if (v.is_string()) return json::value(static_cast<std::int64_t>(CodePointCount(v.get_string())));
    return json::value(1);
}

Result<json::value> First(Args a, const FormulaContext&) {
    const auto& v = Arg(a, 0);
    if (v.is_array() && !v.get_array().empty()) return v.get_array().front();
    return json::value(nullptr);
}

Result<json::value> Last(Args a, const FormulaContext&) {
    const auto& v = Arg(a, 0);
    if (v.is_array() && !v.get_array().empty()) return v.get_array().back();
    return json::value(nullptr);
}

Result<json::value> Sort(Args a, const FormulaContext&) {
    if (Arg(a, 0).is_null()) return json::value(json::array{});
    if (!Arg(a, 0).is_array()) return FormulaError("sort", "the first argument must be a list");
    json::array out = a[0].get_array();
    const json::value key = Arg(a, 1);
    const bool desc = ArgText(a, 2) == "desc";
    auto sort_key = [&](const json::value& e) -> const json::value& {
        static const json::value kNull;
        if (key.is_null()) return e;
        const json::value* f = FollowPath(e, key);
        return f == nullptr ? kNull : *f;
    };
    std::stable_sort(out.begin(), out.end(), [&](const json::value& x, const json::value& y) {
        const int c = Compare(sort_key(x), sort_key(y));
        return desc ? c > 0 : c < 0;
    });
    return json::value(std::move(out));
}

Result<json::value> Unique(Args a, const FormulaContext&) {
    if (!Arg(a, 0).is_array()) return json::value(json::array{});
    json::array out;
    for (const auto& e : a[0].get_array()) {
        if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
    }
    return json::value(std::move(out));
}

Result<json::value> Flatten(Args a, const FormulaContext&) {
    if (!Arg(a, 0).is_array()) return json::value(json::array{});
    json::array out;
    for (const auto& e : a[0].get_array()) {
        if (e.is_array()) {
            for (const auto& inner : e.get_array()) out.push_back(inner);
        } else {
            out.push_back(e);
        }
    }
    return json::value(std::move(out));
}

Result<json::value> Merge(Args a, const FormulaContext&) {
    bool lists = false;
    bool objects = false;
    for (const auto& v : a) {
        lists = lists || v.is_array();
        objects = objects || v.is_object();
        if (!v.is_null() && !v.is_array() && !v.is_object()) {
            return FormulaError("merge", "expects objects or lists, got " + KindWithArticle(v));
        }
    }
    if (lists && objects) return FormulaError("merge", "cannot merge lists with objects");
    if (lists) {
        json::array out;
        for (const auto& v : a) {
            if (v.is_array()) out.insert(out.end(), v.get_array().begin(), v.get_array().end());
        }
        return json::value(std::move(out));
    }
    json::object out;
    for (const auto& v : a) {
        if (!v.is_object()) continue;
        for (const auto& kv : v.get_object()) out[kv.key()] = kv.value();
    }
    return json::value(std::move(out));
}

Result<json::value> Pluck(Args a, const FormulaContext&) {
    json::array out;
    if (!Arg(a, 0).is_array()) return json::value(std::move(out));
    for (const auto& e : a[0].get_array()) {
        const json::value* f = FollowPath(e, Arg(a, 1));
        out.push_back(f == nullptr ? json::value(nullptr) : *f);
    }
    return json::value(std::move(out));
}

const FormulaSpec kData[] = {
    {"object", "data", 1, 1, ObjectFormula},
    {"json", "data", 1, 1, JsonFormula},
    {"keys", "data", 1, 1, Keys},
    {"values", "data", 1, 1, Values},
    {"get", "data", 2, 3, Get},
    {"default", "data", 2, 2, Default},
    {"count", "data", 1, 1, Count},
    {"first", "data", 1, 1, First},
    {"last", "data", 1, 1, Last},
    {"sort", "data", 1, 3, Sort},
    {"unique", "data", 1, 1, Unique},
    {"flatten", "data", 1, 1, Flatten},
    {"merge", "data", 1, kVariadic, Merge},
    {"pluck", "data", 2, 2, Pluck},
};

}  // namespace

std::span<const FormulaSpec> DataFormulas() { return kData; }

}  // namespace weft::engine
