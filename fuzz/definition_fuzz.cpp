// libFuzzer target: arbitrary bytes as an automation definition. Parsing and validation must never crash,
// hang or exhaust memory, whatever the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/definition.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto def = weft::engine::ParseDefinitionText(text);
    if (def) {
        // Touch the compiled result so a half-built definition would show.
        (void)(*def)->has_setup();
        (void)(*def)->Flow("start");
    }
    return 0;
}
