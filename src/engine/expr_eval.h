#pragma once

#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "engine/expr.h"
#include "engine/formula.h"

namespace weft::engine {

// Where references look up their root (`inputs`, `variables`, `start`, `run` or a block id).
class Scope {
  public:
    virtual ~Scope() = default;
    // nullptr when the root has no value (a block that has not run).
    virtual const json::value* Root(std::string_view name) const = 0;
};

// The value a reference points at, or null when the path does not resolve.
json::value Resolve(const Reference& ref, const Scope& scope);

// Evaluation never parses: it walks the tree built at load time. Failures come from formulas
// (division by zero, malformed base64, ...).
Result<json::value> Evaluate(const Expr& e, const Scope& scope, const FormulaContext& ctx);
Result<json::value> Evaluate(const Template& t, const Scope& scope, const FormulaContext& ctx);
Result<json::value> Evaluate(const ValueTemplate& t, const Scope& scope, const FormulaContext& ctx);

}  // namespace weft::engine
