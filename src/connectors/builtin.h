#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/directory.h"

namespace weft::connectors {

// The JSON sources of the built-in connectors (src/connectors/builtin/*.json, embedded at build time).
const std::vector<std::string_view>& BuiltinConnectorSources();

// The built-in connectors, parsed once. Each has a fixed guid derived from its key, so guids are the same on
// every server. Throws at start-up if a built-in definition is invalid (a build defect).
class BuiltinConnectors {
  public:
    BuiltinConnectors();
    const std::vector<ConnectorRef>& all() const { return all_; }
    // By guid or key; nullptr when none.
    const ConnectorRef* Find(std::string_view guid_or_key) const;

  private:
    std::vector<ConnectorRef> all_;
};

// The fixed guid of a built-in connector: the SHA-256 of its key, shaped like a version-7 UUID.
std::string BuiltinConnectorGuid(std::string_view key);

}  // namespace weft::connectors
