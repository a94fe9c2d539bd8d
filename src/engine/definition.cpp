#include "engine/definition.h"

namespace weft::engine {

const char* VariableTypeName(VariableType type) {
    switch (type) {
        case VariableType::kString:
            return "string";
        case VariableType::kNumber:
            return "number";
        case VariableType::kList:
            return "list";
        case VariableType::kObject:
            return "object";
        case VariableType::kTable:
            return "table";
    }
    return "unknown";
}

const char* InputTypeName(InputType type) {
    switch (type) {
        case InputType::kString:
            return "string";
        case InputType::kNumber:
            return "number";
        case InputType::kInteger:
            return "integer";
        case InputType::kBoolean:
            return "boolean";
        case InputType::kObject:
            return "object";
        case InputType::kList:
            return "list";
        case InputType::kDatasource:
            return "datasource";
    }
    return "unknown";
}

const BlockList* Definition::Flow(std::string_view name) const {
    auto it = flows.find(name);
    return it == flows.end() ? nullptr : &it->second;
}

const Block* Definition::FindBlock(std::string_view id) const {
    auto it = blocks_by_id.find(id);
    return it == blocks_by_id.end() ? nullptr : it->second;
}

const VariableSpec* Definition::FindVariable(std::string_view name) const {
    for (const auto& v : variables) {
        if (v.name == name) return &v;
    }
    return nullptr;
}

}  // namespace weft::engine
