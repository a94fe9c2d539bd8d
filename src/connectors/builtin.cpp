#include "connectors/builtin.h"

#include <stdexcept>

#include "core/crypto.h"

namespace weft::connectors {

std::string BuiltinConnectorGuid(std::string_view key) {
    std::string hex = Sha256Hex("weft-builtin-connector:" + std::string(key)).substr(0, 32);
    hex[12] = '7';  // shaped like the API's version-7 guids (the contract's Guid pattern)
    hex[16] = "89ab"[static_cast<unsigned char>(hex[16]) % 4];  // RFC 4122 variant
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
}

BuiltinConnectors::BuiltinConnectors() {
    for (const auto source : BuiltinConnectorSources()) {
        auto doc = ParseJson(source);
        if (!doc) throw std::runtime_error("a built-in connector is not valid JSON: " + doc.error().message);
        auto def = ParseConnectorDef(*doc);
        if (!def) {
            std::string faults;
            for (const auto& [path, messages] : def.error().fields) {
                for (const auto& m : messages) faults += " " + path + ": " + m + ";";
            }
            throw std::runtime_error("a built-in connector is invalid:" + faults);
        }
        ConnectorRef ref{BuiltinConnectorGuid(def->key), std::make_shared<const ConnectorDef>(std::move(*def))};
        all_.push_back(std::move(ref));
    }
}

const ConnectorRef* BuiltinConnectors::Find(std::string_view guid_or_key) const {
    for (const auto& c : all_) {
        if (c.guid == guid_or_key) return &c;
    }
    for (const auto& c : all_) {
        if (c.def->key == guid_or_key) return &c;
    }
    return nullptr;
}

}  // namespace weft::connectors
