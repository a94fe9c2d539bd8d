#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace weft {

// Signed, expiring download links for a run's export (API.md section 9: `GET .../runs/{run}/export`).
//
// A link is `/v1/exports/runs/{run guid}/{kind}?expires={unix seconds}&signature={hex}` where the signature is
// HMAC-SHA256 over the kind, the run guid and the expiry under a server-wide secret that every process sharing
// the database reads from it. Whoever holds a link may download until it expires; nothing else is needed.
class ExportLinks {
  public:
    static constexpr Micros kValidity = 3600LL * 1'000'000;  // one hour

    enum class Kind { kDebug, kDisplay };

    ExportLinks(std::string key, const Clock& clock) : key_(std::move(key)), clock_(clock) {}

    // The path and query of a fresh link (the caller puts the public base URL in front).
    std::string Link(Kind kind, std::string_view run_guid) const;

    // Whether a presented link is genuine and unexpired. `kind` is the path segment ("debug" or "display").
    bool Verify(std::string_view kind, std::string_view run_guid, std::string_view expires,
                std::string_view signature) const;

    static std::optional<Kind> ParseKind(std::string_view kind);
    static std::string_view Name(Kind kind) { return kind == Kind::kDebug ? "debug" : "display"; }

  private:
    std::string Sign(std::string_view kind, std::string_view run_guid, std::string_view expires) const;

    std::string key_;
    const Clock& clock_;
};

}  // namespace weft
