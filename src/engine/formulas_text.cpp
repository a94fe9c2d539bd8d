#include <algorithm>
#include <cctype>

#include "engine/formula.h"
#include "engine/formula_util.h"

namespace weft::engine {

namespace {

using Args = std::span<const json::value>;

Result<json::value> Uppercase(Args a, const FormulaContext&) {
    std::string s = ArgText(a, 0);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return json::value(s);
}

Result<json::value> Lowercase(Args a, const FormulaContext&) {
    std::string s = ArgText(a, 0);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return json::value(s);
}

Result<json::value> Capitalize(Args a, const FormulaContext&) {
    std::string s = ArgText(a, 0);
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return json::value(s);
}

Result<json::value> Trim(Args a, const FormulaContext&) {
    std::string s = ArgText(a, 0);
    auto space = [](unsigned char c) { return std::isspace(c) != 0; };
    auto b = std::find_if_not(s.begin(), s.end(), space);
    auto e = std::find_if_not(s.rbegin(), s.rend(), space).base();
    return json::value(b < e ? std::string(b, e) : std::string());
}

Result<json::value> Replace(Args a, const FormulaContext&) {
    std::string s = ArgText(a, 0);
    const std::string from = ArgText(a, 1);
    const std::string to = ArgText(a, 2);
    if (from.empty()) return json::value(s);
    std::string out;
    std::size_t pos = 0;
    while (true) {
        std::size_t hit = s.find(from, pos);
        if (hit == std::string::npos) break;
        out.append(s, pos, hit - pos);
        out += to;
        pos = hit + from.size();
    }
    out.append(s, pos, std::string::npos);
    return json::value(out);
}

Result<json::value> Substring(Args a, const FormulaContext&) {
    const std::string s = ArgText(a, 0);
    auto offsets = CodePointOffsets(s);
    const auto n = static_cast<std::int64_t>(offsets.size() - 1);
    auto start = ToInteger(Arg(a, 1));
    if (!start) return FormulaError("substring", "start must be an integer");
    std::int64_t from = *start < 0 ? std::max<std::int64_t>(0, n + *start) : std::min(*start, n);
    std::int64_t to = n;
    if (a.size() > 2 && !a[2].is_null()) {
        auto len = ToInteger(a[2]);
        if (!len || *len < 0) return FormulaError("substring", "length must be a non-negative integer");
        to = std::min(n, from + *len);
    }
    const auto b = offsets[static_cast<std::size_t>(from)];
    const auto e = offsets[static_cast<std::size_t>(to)];
    return json::value(s.substr(b, e - b));
}

Result<json::value> Split(Args a, const FormulaContext&) {
    const std::string s = ArgText(a, 0);
    const std::string sep = a.size() > 1 ? ArgText(a, 1) : ",";
    json::array out;
    if (s.empty()) return json::value(std::move(out));
    if (sep.empty()) {
        auto offsets = CodePointOffsets(s);
        for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
            out.emplace_back(s.substr(offsets[i], offsets[i + 1] - offsets[i]));
        }
        return json::value(std::move(out));
    }
    std::size_t pos = 0;
    while (true) {
        std::size_t hit = s.find(sep, pos);
        out.emplace_back(s.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos));
        if (hit == std::string::npos) break;
        pos = hit + sep.size();
    }
    return json::value(std::move(out));
}

Result<json::value> Join(Args a, const FormulaContext&) {
    if (Arg(a, 0).is_null()) return json::value("");
    if (!Arg(a, 0).is_array()) return FormulaError("join", "the first argument must be a list");
    const std::string sep = a.size() > 1 ? ArgText(a, 1) : ",";
    std::string out;
    bool first = true;
    for (const auto& e : a[0].get_array()) {
        if (!first) out += sep;
        first = false;
        out += ToText(e);
    }
    return json::value(out);
}

Result<json::value> Concat(Args a, const FormulaContext&) {
    std::string out;
    for (const auto& v : a) out += ToText(v);
    return json::value(out);
}

Result<json::value> Length(Args a, const FormulaContext&) {
    const auto& v = Arg(a, 0);
    if (v.is_array()) return json::value(static_cast<std::int64_t>(v.get_array().size()));
    if (v.is_object()) return json::value(static_cast<std::int64_t>(v.get_object().size()));
    if (v.is_null()) return json::value(0);
    return json::value(static_cast<std::int64_t>(CodePointCount(ToText(v))));
}

Result<json::value> Pad(Args a, bool left, const char* name) {
    std::string s = ArgText(a, 0);
    auto width = ToInteger(Arg(a, 1));
    if (!width || *width < 0 || *width > 1'000'000) return FormulaError(name, "length must be an integer 0..1000000");
    const std::string fill = a.size() > 2 ? ArgText(a, 2) : " ";
    if (fill.empty()) return FormulaError(name, "the padding text is empty");
    std::size_t have = CodePointCount(s);
    std::string pad;
    const auto fill_offsets = CodePointOffsets(fill);
    std::size_t k = 0;
    while (have < static_cast<std::size_t>(*width)) {
        std::size_t i = k % (fill_offsets.size() - 1);
        pad += fill.substr(fill_offsets[i], fill_offsets[i + 1] - fill_offsets[i]);
        ++k;
        ++have;
    }
    return json::value(left ? pad + s : s + pad);
}

Result<json::value> PadLeft(Args a, const FormulaContext&) { return Pad(a, true, "pad_left"); }
Result<json::value> PadRight(Args a, const FormulaContext&) { return Pad(a, false, "pad_right"); }

Result<json::value> Contains(Args a, const FormulaContext&) {
    const auto& hay = Arg(a, 0);
    const auto& needle = Arg(a, 1);
    if (hay.is_array()) {
        for (const auto& e : hay.get_array()) {
            if (LooseEquals(e, needle)) return json::value(true);
        }
        return json::value(false);
    }
    if (hay.is_object()) return json::value(hay.get_object().contains(ToText(needle)));
    return json::value(ToText(hay).find(ToText(needle)) != std::string::npos);
}

const FormulaSpec kText[] = {
    {"uppercase", "text", 1, 1, Uppercase},   {"lowercase", "text", 1, 1, Lowercase},
    {"capitalize", "text", 1, 1, Capitalize}, {"trim", "text", 1, 1, Trim},
    {"replace", "text", 3, 3, Replace},       {"substring", "text", 2, 3, Substring},
    {"split", "text", 1, 2, Split},           {"join", "text", 1, 2, Join},
    {"concat", "text", 1, kVariadic, Concat}, {"length", "text", 1, 1, Length},
    {"pad_left", "text", 2, 3, PadLeft},      {"pad_right", "text", 2, 3, PadRight},
    {"contains", "text", 2, 2, Contains},
};

}  // namespace

std::span<const FormulaSpec> TextFormulas() { return kText; }

}  // namespace weft::engine
