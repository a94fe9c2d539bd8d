#include "engine/run_inputs.h"

#include "core/ids.h"
#include "engine/value.h"

namespace weft::engine {

Result<json::value> CoerceInput(const json::value& value, InputType type) {
    auto wrong = [&](const char* wants) {
        return Error::Invalid(std::string("must be ") + wants + ", not " + KindWithArticle(value));
    };
    switch (type) {
        case InputType::kString:
            if (value.is_object() || value.is_array()) return wrong("text");
            return json::value(ToText(value));
        case InputType::kNumber: {
            auto n = value.is_bool() ? std::nullopt : ToNumber(value);
            if (!n) return wrong("a number");
            return value.is_number() ? value : NumberValue(*n);
        }
        case InputType::kInteger: {
            auto i = value.is_bool() ? std::nullopt : ToInteger(value);
            if (!i) return wrong("an integer");
            return json::value(*i);
        }
        case InputType::kBoolean:
            if (value.is_bool()) return value;
            if (value.is_string() && (value.get_string() == "true" || value.get_string() == "false")) {
                return json::value(value.get_string() == "true");
            }
            return wrong("true or false");
        case InputType::kObject:
            if (!value.is_object()) return wrong("an object");
            return value;
        case InputType::kList:
            if (!value.is_array()) return wrong("a list");
            return value;
        case InputType::kDatasource:
            if (!value.is_string() || !LooksLikeGuid(value.get_string())) return wrong("a datasource guid");
            return value;
    }
    return value;
}

Result<json::object> ResolveRunInputs(const Definition& def, std::string_view flow, const json::object& given,
                                      const json::object& persisted) {
    json::object out = given;
    FieldErrors faults;
    for (const auto& spec : def.inputs) {
        const json::value* value = given.if_contains(spec.field_name);
        if (value == nullptr || value->is_null()) value = persisted.if_contains(spec.field_name);
        if ((value == nullptr || value->is_null()) && !spec.default_value.is_null()) value = &spec.default_value;
        const std::string key = "inputs." + spec.field_name;
        if (value == nullptr || value->is_null() || (value->is_string() && value->get_string().empty())) {
            if (spec.required && spec.flow == flow) faults[key].push_back("is required");
            if (value == nullptr) continue;
            out[spec.field_name] = *value;
            continue;
        }
        auto coerced = CoerceInput(*value, spec.type);
        if (!coerced) {
            faults[key].push_back(coerced.error().message);
            continue;
        }
        out[spec.field_name] = std::move(coerced.value());
    }
    if (!faults.empty()) return Error::Validation(std::move(faults));
    return out;
}

}  // namespace weft::engine
