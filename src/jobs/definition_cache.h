#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "engine/definition.h"

namespace weft::jobs {

// Compiled definitions by their JSON text: each stored version is parsed once, however many runs use it.
class DefinitionCache {
  public:
    explicit DefinitionCache(std::size_t capacity = 1024) : capacity_(capacity) {}
    Result<std::shared_ptr<const engine::Definition>> Get(std::string_view text);

  private:
    std::size_t capacity_;
    std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<const engine::Definition>> entries_;
};

}  // namespace weft::jobs
