#pragma once

#include "engine/definition.h"
#include "engine/definition_faults.h"

namespace weft::engine {

// The checks that need the whole definition: unique ids, references that can resolve (a block
// earlier in the flow or an enclosing loop/condition), declared variables and the operations their
// type allows, loop nesting, exit_loop placement. Records each block's loop depth.
void ValidateDefinition(Definition& def, const DefinitionLimits& limits, Faults& faults);

}  // namespace weft::engine
