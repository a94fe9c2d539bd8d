#pragma once

#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "engine/definition.h"

namespace weft::engine {

// The inputs a run of `flow` sees: declared defaults, then persisted values, then the run's own
// inputs (each overriding the previous). Values are checked against their declared type and
// converted where nothing is lost ("42" for a number, 7 for a string); a required input of `flow`
// without a value, or a value of the wrong type, is a `validation_failed` error with one entry per
// fault keyed `inputs.<field_name>`. Inputs the definition does not declare pass through unchanged.
Result<json::object> ResolveRunInputs(const Definition& def, std::string_view flow, const json::object& given,
                                      const json::object& persisted = {});

// `value` converted to an input of `type`, or an error message.
Result<json::value> CoerceInput(const json::value& value, InputType type);

}  // namespace weft::engine
