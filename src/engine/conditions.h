#pragma once

#include "core/json.h"
#include "core/result.h"
#include "engine/definition.h"

namespace weft::engine {

// Applies one condition operator. `matches` uses `cond.regex` when it was precompiled, else
// compiles `right` (RE2: linear-time, no backtracking); an invalid pattern is an error.
Result<bool> ApplyCondition(const Condition& cond, const json::value& left, const json::value& right);

const char* ConditionOpName(ConditionOp op);

}  // namespace weft::engine
