#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"

namespace weft::engine {

// What formulas may depend on besides their arguments; injected so tests are deterministic.
struct FormulaContext {
    const Clock* clock = nullptr;
    std::function<std::string()> new_uuid;
};

using FormulaFn = Result<json::value> (*)(std::span<const json::value> args, const FormulaContext& ctx);

inline constexpr int kVariadic = -1;

struct FormulaSpec {
    std::string_view name;
    std::string_view group;  // text, number, date, data, logic, encoding
    int min_args = 0;
    int max_args = 0;  // kVariadic: no upper bound
    FormulaFn fn = nullptr;
};

// The formula named `name`, or nullptr.
const FormulaSpec* FindFormula(std::string_view name);

// Every formula, in documentation order.
std::span<const FormulaSpec> AllFormulas();

// A formula failure: the message names the formula.
Error FormulaError(std::string_view formula, std::string message);

// True when `name` is an IANA time zone of the system's tz database.
bool IsKnownTimeZone(std::string_view name);

// Formula groups, each defined in its own file.
std::span<const FormulaSpec> TextFormulas();
std::span<const FormulaSpec> NumberFormulas();
std::span<const FormulaSpec> DateFormulas();
std::span<const FormulaSpec> DataFormulas();
std::span<const FormulaSpec> LogicFormulas();
std::span<const FormulaSpec> EncodingFormulas();

}  // namespace weft::engine
