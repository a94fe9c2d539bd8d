#include "domain/export_links.h"

#include <charconv>

#include "core/crypto.h"

namespace weft {

std::string ExportLinks::Sign(std::string_view kind, std::string_view run_guid, std::string_view expires) const {
    std::string message = "weft run export\n";
    message.append(kind).append("\n").append(run_guid).append("\n").append(expires);
    return HmacSha256Hex(key_, message);
}

std::string ExportLinks::Link(Kind kind, std::string_view run_guid) const {
    const std::string expires = std::to_string((clock_.Now() + kValidity) / 1'000'000);
    const std::string_view name = Name(kind);
    std::string out = "/v1/exports/runs/";
    out.append(run_guid).append("/").append(name);
    out.append("?expires=").append(expires).append("&signature=").append(Sign(name, run_guid, expires));
    return out;
}

bool ExportLinks::Verify(std::string_view kind, std::string_view run_guid, std::string_view expires,
                         std::string_view signature) const {
    if (!ParseKind(kind)) return false;
    std::int64_t until = 0;
    const auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), until);
    if (ec != std::errc() || end != expires.data() + expires.size() || expires.empty()) return false;
    if (!ConstantTimeEquals(Sign(kind, run_guid, expires), signature)) return false;
    return clock_.Now() / 1'000'000 <= until;
}

std::optional<ExportLinks::Kind> ExportLinks::ParseKind(std::string_view kind) {
    if (kind == "debug") return Kind::kDebug;
    if (kind == "display") return Kind::kDisplay;
    return std::nullopt;
}

}  // namespace weft
