#include "connectors/placeholders.h"

#include <cctype>

#include "engine/value.h"

namespace weft::connectors {

namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The placeholder starting at `i` (a '{'): its name and the position after its '}', or an empty name.
std::pair<std::string_view, std::size_t> PlaceholderAt(std::string_view text, std::size_t i) {
    std::size_t j = i + 1;
    while (j < text.size() && IsNameChar(text[j])) ++j;
    if (j == i + 1 || j >= text.size() || text[j] != '}') return {{}, i + 1};
    return {text.substr(i + 1, j - i - 1), j + 1};
}

}  // namespace

std::vector<std::string> PlaceholderNames(std::string_view text) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] != '{') {
            ++i;
            continue;
        }
        auto [name, next] = PlaceholderAt(text, i);
        if (!name.empty()) out.emplace_back(name);
        i = next;
    }
    return out;
}

std::string PercentEncode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

std::string ExpandText(std::string_view text, const ParamLookup& lookup, bool url_encode) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] != '{') {
            out.push_back(text[i++]);
            continue;
        }
        auto [name, next] = PlaceholderAt(text, i);
        if (name.empty()) {
            out.push_back(text[i++]);
            continue;
        }
        const json::value* v = lookup(name);
        const std::string value = v == nullptr ? std::string() : engine::ToText(*v);
        out += url_encode ? PercentEncode(value) : value;
        i = next;
    }
    return out;
}

std::string ExpandPath(std::string_view path, const ParamLookup& lookup) {
    std::string out = ExpandText(path, lookup, true);
    std::string restored;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out.compare(i, 3, "%2F") == 0) {
            restored.push_back('/');
            i += 2;
        } else {
            restored.push_back(out[i]);
        }
    }
    return restored;
}

json::value ExpandValue(const json::value& tmpl, const ParamLookup& lookup) {
    if (tmpl.is_string()) {
        const std::string_view s = tmpl.get_string();
        if (!s.empty() && s.front() == '{') {
            auto [name, next] = PlaceholderAt(s, 0);
            if (!name.empty() && next == s.size()) {
                const json::value* v = lookup(name);
                return v == nullptr ? json::value(nullptr) : *v;
            }
        }
        return json::value(ExpandText(s, lookup, false));
    }
    if (tmpl.is_object()) {
        json::object out;
        for (const auto& kv : tmpl.get_object()) {
            json::value v = ExpandValue(kv.value(), lookup);
            if (!v.is_null()) out[kv.key()] = std::move(v);
        }
        return out;
    }
    if (tmpl.is_array()) {
        json::array out;
        for (const auto& item : tmpl.get_array()) out.push_back(ExpandValue(item, lookup));
        return out;
    }
    return tmpl;
}

}  // namespace weft::connectors
