#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "engine/expr.h"

namespace re2 {
class RE2;
}

namespace weft::engine {

// A compiled automation definition (AUTOMATIONS.md). Built only by ParseDefinition, immutable and
// shared by every run of the same definition version; templates are already parsed.

enum class RunMode { kManual, kScheduled, kTriggered };
enum class InputType { kString, kNumber, kInteger, kBoolean, kObject, kList, kDatasource };
enum class VariableType { kString, kNumber, kList, kObject, kTable };
enum class BlockType {
    kOutput,
    kVariable,
    kCondition,
    kLoop,
    kExitLoop,
    kHttp,
    kConnector,
    kCallAutomation,
    kSleep,
    kError,
    kStop,
};
enum class OnError { kStop, kWarning, kIgnore };
enum class Backoff { kFixed, kExponential };
enum class ResponseMode { kAuto, kJson, kText };
enum class VariableOpKind { kSet, kAppend, kMerge, kIncrement, kClear };
enum class ConditionOp {
    kEquals,
    kNotEquals,
    kGt,
    kGte,
    kLt,
    kLte,
    kContains,
    kNotContains,
    kStartsWith,
    kEndsWith,
    kIsEmpty,
    kIsNotEmpty,
    kIsTrue,
    kIsFalse,
    kMatches,
};

const char* BlockTypeName(BlockType type);
const char* VariableTypeName(VariableType type);
const char* InputTypeName(InputType type);

struct RetryPolicy {
    int max_attempts = 1;
    Backoff backoff = Backoff::kFixed;
    std::int64_t delay_ms = 1000;
    std::int64_t max_delay_ms = 60000;
};

struct VariableOp {
    VariableOpKind kind = VariableOpKind::kSet;
    ValueTemplate value;
};

struct Condition {
    ValueTemplate left;
    ConditionOp op = ConditionOp::kEquals;
    ValueTemplate right;
    std::shared_ptr<const re2::RE2> regex;  // precompiled when `right` is a literal pattern
};

struct Block;
using BlockList = std::vector<Block>;

// One block. Only the fields of its `type` are set; the rest keep their defaults.
struct Block {
    std::string id;
    BlockType type = BlockType::kStop;
    std::string name;
    std::string comment;
    bool disabled = false;
    OnError on_error = OnError::kStop;
    RetryPolicy retry;
    std::string path;    // JSON path in the definition, e.g. "flows.start[2]"
    int loop_depth = 0;  // number of loops enclosing this block

    // output
    ValueTemplate value;
    bool append = false;
    std::optional<ValueTemplate> status;
    std::optional<ValueTemplate> headers;
    // variable
    std::string variable;
    VariableType variable_type = VariableType::kString;
    std::vector<VariableOp> operations;
    // condition
    bool match_all = true;
    std::vector<Condition> conditions;
    BlockList then_blocks;
    BlockList else_blocks;
    // loop
    ValueTemplate over;
    BlockList body;
    std::int64_t max_iterations = 0;  // 0: no per-loop cap (the run's block limit still applies)
    // http
    ValueTemplate method;
    ValueTemplate url;
    std::optional<ValueTemplate> query;
    std::optional<ValueTemplate> request_headers;
    std::optional<ValueTemplate> body_value;
    std::optional<ValueTemplate> datasource;
    std::int64_t timeout_ms = 60000;
    ResponseMode response = ResponseMode::kAuto;
    std::vector<int> accept_status;
    // connector
    ValueTemplate connector;
    ValueTemplate endpoint;
    std::optional<ValueTemplate> params;
    // call_automation
    ValueTemplate automation;
    std::optional<ValueTemplate> call_inputs;
    bool async = false;
    // sleep
    ValueTemplate seconds;
    // error
    ValueTemplate message;
    bool stop = true;
};

struct InputSpec {
    std::string block_id;
    std::string flow = "start";
    std::string field_name;
    std::string prompt;
    InputType type = InputType::kString;
    bool required = false;
    bool persisted = false;
    json::value default_value;
    std::string connector;
};

struct VariableSpec {
    std::string name;
    VariableType type = VariableType::kString;
};

// Lets blocks_by_id be searched with a string_view (no string built per lookup: the engine looks up the block
// owning a loop or branch before each block it runs there).
struct BlockIdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
};

struct Definition {
    int schema = 1;
    RunMode run_mode = RunMode::kManual;
    bool async_trigger = false;
    std::vector<InputSpec> inputs;
    std::vector<VariableSpec> variables;
    std::map<std::string, BlockList, std::less<>> flows;  // start, setup, settings, delete
    std::unordered_map<std::string, const Block*, BlockIdHash, std::equal_to<>> blocks_by_id;

    bool has_setup() const { return flows.contains("setup"); }
    bool has_settings() const { return flows.contains("settings"); }
    const BlockList* Flow(std::string_view name) const;
    const Block* FindBlock(std::string_view id) const;
    const VariableSpec* FindVariable(std::string_view name) const;

    Definition() = default;
    Definition(const Definition&) = delete;  // blocks_by_id points into flows
    Definition& operator=(const Definition&) = delete;
};

struct DefinitionLimits {
    int max_loop_depth = 16;
    std::int64_t max_sleep_seconds = 3600;
    std::int64_t max_timeout_ms = 600000;
};

// Parses and validates a definition. On failure: an `invalid_definition` error whose `fields` map
// each JSON path (`flows.start[2].url`) to its faults; every fault is reported, not just the first.
Result<std::shared_ptr<const Definition>> ParseDefinition(const json::value& doc, const DefinitionLimits& limits = {});
Result<std::shared_ptr<const Definition>> ParseDefinitionText(std::string_view text,
                                                              const DefinitionLimits& limits = {});

}  // namespace weft::engine
