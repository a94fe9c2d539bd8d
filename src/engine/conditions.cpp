#include "engine/conditions.h"

#include <re2/re2.h>

#include "engine/value.h"

namespace weft::engine {

namespace {

bool Contains(const json::value& hay, const json::value& needle) {
    if (hay.is_array()) {
        for (const auto& e : hay.get_array()) {
            if (LooseEquals(e, needle)) return true;
        }
        return false;
    }
    if (hay.is_object()) return hay.get_object().contains(ToText(needle));
    return ToText(hay).find(ToText(needle)) != std::string::npos;
}

}  // namespace

const char* ConditionOpName(ConditionOp op) {
    switch (op) {
        case ConditionOp::kEquals:
            return "equals";
        case ConditionOp::kNotEquals:
            return "not_equals";
        case ConditionOp::kGt:
            return "gt";
        case ConditionOp::kGte:
            return "gte";
        case ConditionOp::kLt:
            return "lt";
        case ConditionOp::kLte:
            return "lte";
        case ConditionOp::kContains:
            return "contains";
        case ConditionOp::kNotContains:
            return "not_contains";
        case ConditionOp::kStartsWith:
            return "starts_with";
        case ConditionOp::kEndsWith:
            return "ends_with";
        case ConditionOp::kIsEmpty:
            return "is_empty";
        case ConditionOp::kIsNotEmpty:
            return "is_not_empty";
        case ConditionOp::kIsTrue:
            return "is_true";
        case ConditionOp::kIsFalse:
            return "is_false";
        case ConditionOp::kMatches:
            return "matches";
    }
    return "unknown";
}

Result<bool> ApplyCondition(const Condition& cond, const json::value& left, const json::value& right) {
    switch (cond.op) {
        case ConditionOp::kEquals:
            return LooseEquals(left, right);
        case ConditionOp::kNotEquals:
            return !LooseEquals(left, right);
        case ConditionOp::kGt:
            return Compare(left, right) > 0;
        case ConditionOp::kGte:
            return Compare(left, right) >= 0;
        case ConditionOp::kLt:
            return Compare(left, right) < 0;
        case ConditionOp::kLte:
            return Compare(left, right) <= 0;
        case ConditionOp::kContains:
            return Contains(left, right);
        case ConditionOp::kNotContains:
            return !Contains(left, right);
        case ConditionOp::kStartsWith:
            return ToText(left).starts_with(ToText(right));
        case ConditionOp::kEndsWith:
            return ToText(left).ends_with(ToText(right));
        case ConditionOp::kIsEmpty:
            return IsEmpty(left);
        case ConditionOp::kIsNotEmpty:
            return !IsEmpty(left);
        case ConditionOp::kIsTrue:
            return IsTruthy(left);
        case ConditionOp::kIsFalse:
            return !IsTruthy(left);
        case ConditionOp::kMatches: {
            const std::string text = ToText(left);
            if (cond.regex) return RE2::PartialMatch(text, *cond.regex);
            RE2::Options options;
            options.set_log_errors(false);
            const RE2 re(ToText(right), options);
            if (!re.ok()) return Error::Invalid("invalid regular expression '" + ToText(right) + "': " + re.error());
            return RE2::PartialMatch(text, re);
        }
    }
    return false;
}

}  // namespace weft::engine
