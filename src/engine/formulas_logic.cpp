#include "engine/formula.h"
#include "engine/formula_util.h"

namespace weft::engine {

namespace {

using Args = std::span<const json::value>;

Result<json::value> If(Args a, const FormulaContext&) { return IsTruthy(Arg(a, 0)) ? Arg(a, 1) : Arg(a, 2); }

Result<json::value> Not(Args a, const FormulaContext&) { return json::value(!IsTruthy(Arg(a, 0))); }

Result<json::value> And(Args a, const FormulaContext&) {
    for (const auto& v : a) {
        if (!IsTruthy(v)) return json::value(false);
    }
    return json::value(true);
}

Result<json::value> Or(Args a, const FormulaContext&) {
    for (const auto& v : a) {
        if (IsTruthy(v)) return json::value(true);
    }
    return json::value(false);
}

Result<json::value> Equals(Args a, const FormulaContext&) { return json::value(LooseEquals(Arg(a, 0), Arg(a, 1))); }

Result<json::value> IsEmptyFormula(Args a, const FormulaContext&) { return json::value(IsEmpty(Arg(a, 0))); }

const FormulaSpec kLogic[] = {
    {"if", "logic", 2, 3, If},         {"not", "logic", 1, 1, Not},       {"and", "logic", 1, kVariadic, And},
    {"or", "logic", 1, kVariadic, Or}, {"equals", "logic", 2, 2, Equals}, {"is_empty", "logic", 1, 1, IsEmptyFormula},
};

}  // namespace

std::span<const FormulaSpec> LogicFormulas() { return kLogic; }

}  // namespace weft::engine
