// libFuzzer target: arbitrary bytes as a template string (`{...}` expressions, formulas, references).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/expr.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)weft::engine::ParseTemplate(text);
    return 0;
}
