#include <algorithm>
#include <vector>

#include "engine/formula.h"

namespace weft::engine {

namespace {

std::vector<FormulaSpec> BuildRegistry() {
    std::vector<FormulaSpec> all;
    for (auto group :
         {TextFormulas(), NumberFormulas(), DateFormulas(), DataFormulas(), LogicFormulas(), EncodingFormulas()}) {
        all.insert(all.end(), group.begin(), group.end());
    }
    return all;
}

const std::vector<FormulaSpec>& Registry() {
    static const std::vector<FormulaSpec> registry = BuildRegistry();
    return registry;
}

}  // namespace

const FormulaSpec* FindFormula(std::string_view name) {
    const auto& all = Registry();
    auto it = std::find_if(all.begin(), all.end(), [&](const FormulaSpec& f) { return f.name == name; });
    return it == all.end() ? nullptr : &*it;
}

std::span<const FormulaSpec> AllFormulas() { return Registry(); }

Error FormulaError(std::string_view formula, std::string message) {
    return Error::Invalid("Formula '" + std::string(formula) + "': " + std::move(message));
}

}  // namespace weft::engine
