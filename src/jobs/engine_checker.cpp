#include "jobs/engine_checker.h"

#include "engine/definition.h"
#include "engine/run_inputs.h"

namespace weft::jobs {

namespace {

const char* RunModeName(engine::RunMode m) {
    switch (m) {
        case engine::RunMode::kManual:
            return "manual";
        case engine::RunMode::kScheduled:
            return "scheduled";
        case engine::RunMode::kTriggered:
            return "triggered";
    }
    return "manual";
}

}  // namespace

Result<DefinitionInfo> EngineDefinitionChecker::Check(const json::value& definition) const {
    auto def = engine::ParseDefinition(definition);
    if (!def) return std::move(def).error();
    DefinitionInfo info;
    info.run_mode = RunModeName((*def)->run_mode);
    info.async_trigger = (*def)->async_trigger;
    info.has_setup = (*def)->has_setup();
    info.has_settings = (*def)->has_settings();
    info.has_delete = (*def)->flows.contains("delete");
    for (const auto& in : (*def)->inputs) {
        info.inputs.push_back({in.block_id, in.flow, in.field_name, in.prompt, engine::InputTypeName(in.type),
                               in.required, in.persisted, in.default_value});
    }
    return info;
}

Result<json::object> EngineDefinitionChecker::ResolveInputs(std::string_view definition, std::string_view flow,
                                                            const json::object& given,
                                                            const json::object& persisted) const {
    auto def = cache_.Get(definition);
    if (!def) return std::move(def).error();
    return engine::ResolveRunInputs(**def, flow, given, persisted);
}

}  // namespace weft::jobs
