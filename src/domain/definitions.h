#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace weft {

// What the services need to know about an automation definition. The engine implements the port; the
// domain never parses definitions itself.
struct DefinitionInput {
    std::string block_id;
    std::string flow;
    std::string field_name;
    std::string prompt;
    std::string type;
    bool required = false;
    bool persisted = false;
    json::value default_value;
};

struct DefinitionInfo {
    std::string run_mode = "manual";
    bool async_trigger = false;
    bool has_setup = false;
    bool has_settings = false;
    bool has_delete = false;
    std::vector<DefinitionInput> inputs;
};

class DefinitionChecker {
  public:
    virtual ~DefinitionChecker() = default;
    // Parses and validates; failures are `invalid_definition` with one entry per fault, keyed by JSON path.
    virtual Result<DefinitionInfo> Check(const json::value& definition) const = 0;
    // The inputs a run of `flow` sees (defaults, then persisted, then given), checked against their declared
    // types; failures are `validation_failed` keyed `inputs.<field_name>`.
    // `definition` is the stored JSON text (implementations cache the compiled form by it).
    virtual Result<json::object> ResolveInputs(std::string_view definition, std::string_view flow,
                                               const json::object& given, const json::object& persisted) const = 0;
};

}  // namespace weft
