#pragma once

#include <string>

#include "core/result.h"

namespace weft::engine {

// Collects every fault of a definition, keyed by JSON path, while parsing goes on.
class Faults {
  public:
    void Add(const std::string& path, std::string message) { fields_[path].push_back(std::move(message)); }
    bool empty() const { return fields_.empty(); }
    FieldErrors Take() { return std::move(fields_); }

  private:
    FieldErrors fields_;
};

}  // namespace weft::engine
