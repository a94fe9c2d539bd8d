#pragma once

#include "domain/definitions.h"
#include "jobs/definition_cache.h"

namespace weft::jobs {

// The domain's DefinitionChecker, answered by the engine's parser and validator.
class EngineDefinitionChecker final : public DefinitionChecker {
  public:
    explicit EngineDefinitionChecker(DefinitionCache& cache) : cache_(cache) {}
    Result<DefinitionInfo> Check(const json::value& definition) const override;
    Result<json::object> ResolveInputs(std::string_view definition, std::string_view flow, const json::object& given,
                                       const json::object& persisted) const override;

  private:
    DefinitionCache& cache_;
};

}  // namespace weft::jobs
