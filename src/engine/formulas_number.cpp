#include <cmath>
#include <limits>

#include "engine/formula.h"
#include "engine/formula_util.h"

namespace weft::engine {

namespace {

using Args = std::span<const json::value>;

// Arguments as numbers; a single list argument stands for its elements.
Result<std::vector<double>> Numbers(Args a, const char* name) {
    std::span<const json::value> items = a;
    if (a.size() == 1 && a[0].is_array())
        items = std::span<const json::value>(a[0].get_array().data(), a[0].get_array().size());
    std::vector<double> out;
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto d = items[i].is_null() ? std::optional<double>(0.0) : ToNumber(items[i]);
        if (!d) return FormulaError(name, "'" + ToText(items[i]) + "' is not a number");
        out.push_back(*d);
    }
    return out;
}

bool AllIntegers(Args a) {
    for (const auto& v : a) {
        if (!ToInteger(v)) return false;
    }
    return true;
}

// Exact integer arithmetic when every operand is an integer and nothing overflows.
template <typename Op>
Result<json::value> Fold(Args a, const char* name, Op op, bool (*checked)(std::int64_t, std::int64_t, std::int64_t*)) {
    auto nums = Numbers(a, name);
    if (!nums) return nums.error();
    if (nums->empty()) return FormulaError(name, "needs at least one number");
    const bool list_arg = a.size() == 1 && a[0].is_array();
    const Args items = list_arg ? Args(a[0].get_array().data(), a[0].get_array().size()) : a;
    if (AllIntegers(items)) {
        std::int64_t acc = *ToInteger(items[0]);
        bool ok = true;
        for (std::size_t i = 1; i < items.size() && ok; ++i) {
            ok = !checked(acc, *ToInteger(items[i]), &acc);
        }
        if (ok) return json::value(acc);
    }
    double acc = (*nums)[0];
    for (std::size_t i = 1; i < nums->size(); ++i) acc = op(acc, (*nums)[i]);
    return NumberValue(acc);
}

bool AddOverflow(std::int64_t x, std::int64_t y, std::int64_t* r) { return __builtin_add_overflow(x, y, r); }
bool SubOverflow(std::int64_t x, std::int64_t y, std::int64_t* r) { return __builtin_sub_overflow(x, y, r); }
bool MulOverflow(std::int64_t x, std::int64_t y, std::int64_t* r) { return __builtin_mul_overflow(x, y, r); }

Result<json::value> Add(Args a, const FormulaContext&) {
    return Fold(
        a, "add", [](double x, double y) { return x + y; }, AddOverflow);
}
Result<json::value> Subtract(Args a, const FormulaContext&) {
    return Fold(
        a, "subtract", [](double x, double y) { return x - y; }, SubOverflow);
}
Result<json::value> Multiply(Args a, const FormulaContext&) {
    return Fold(
        a, "multiply", [](double x, double y) { return x * y; }, MulOverflow);
}

Result<json::value> Divide(Args a, const FormulaContext&) {
    auto nums = Numbers(a, "divide");
    if (!nums) return nums.error();
    if ((*nums)[1] == 0) return FormulaError("divide", "division by zero");
    return NumberValue((*nums)[0] / (*nums)[1]);
}

Result<json::value> Rounding(Args a, const char* name, double (*fn)(double)) {
    auto x = ToNumber(Arg(a, 0));
    if (!x) return FormulaError(name, "'" + ArgText(a, 0) + "' is not a number");
    std::int64_t places = 0;
    if (a.size() > 1) {
        auto p = ToInteger(a[1]);
        if (!p || *p < 0 || *p > 15) return FormulaError(name, "decimals must be an integer 0..15");
        places = *p;
    }
    if (places == 0) return NumberValue(fn(*x));
    const double scale = std::pow(10.0, static_cast<double>(places));
    return NumberValue(fn(*x * scale) / scale);
}

Result<json::value> Round(Args a, const FormulaContext&) { return Rounding(a, "round", std::round); }
Result<json::value> Floor(Args a, const FormulaContext&) { return Rounding(a, "floor", std::floor); }
Result<json::value> Ceil(Args a, const FormulaContext&) { return Rounding(a, "ceil", std::ceil); }

Result<json::value> Extreme(Args a, const char* name, bool want_max) {
    std::span<const json::value> items = a;
    if (a.size() == 1 && a[0].is_array()) items = Args(a[0].get_array().data(), a[0].get_array().size());
    if (items.empty()) return json::value(nullptr);
    auto nums = Numbers(items, name);
    if (!nums) return nums.error();
    std::size_t best = 0;
    for (std::size_t i = 1; i < nums->size(); ++i) {
        if (want_max ? (*nums)[i] > (*nums)[best] : (*nums)[i] < (*nums)[best]) best = i;
    }
    return NumberValue((*nums)[best]);
}

Result<json::value> Min(Args a, const FormulaContext&) { return Extreme(a, "min", false); }
Result<json::value> Max(Args a, const FormulaContext&) { return Extreme(a, "max", true); }

Result<json::value> Number(Args a, const FormulaContext&) {
    const auto& v = Arg(a, 0);
    if (v.is_null()) return json::value(0);
    auto d = ToNumber(v);
    if (!d) {
        if (a.size() > 1) return a[1];
        return FormulaError("number", "'" + ToText(v) + "' is not a number");
    }
    return NumberValue(*d);
}

const FormulaSpec kNumber[] = {
    {"add", "number", 1, kVariadic, Add},
    {"subtract", "number", 1, kVariadic, Subtract},
    {"multiply", "number", 1, kVariadic, Multiply},
    {"divide", "number", 2, 2, Divide},
    {"round", "number", 1, 2, Round},
    {"floor", "number", 1, 2, Floor},
    {"ceil", "number", 1, 2, Ceil},
    {"min", "number", 1, kVariadic, Min},
    {"max", "number", 1, kVariadic, Max},
    {"number", "number", 1, 2, Number},
};

}  // namespace

std::span<const FormulaSpec> NumberFormulas() { return kNumber; }

}  // namespace weft::engine
