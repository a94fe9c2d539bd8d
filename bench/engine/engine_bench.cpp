// Measures the engine alone (no I/O): how fast definitions compile, templates evaluate and blocks run.

#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <functional>

#include "core/clock.h"
#include "engine/definition.h"
#include "engine/engine.h"
#include "engine/expr.h"
#include "engine/expr_eval.h"

namespace weft::engine {
namespace {

class FixedClock final : public Clock {
  public:
    Micros Now() const override { return 1710510330LL * 1000000; }
};

// 200 blocks: http calls, variable updates, conditions with nested blocks, outputs; every block
// references earlier ones so the validator's scoping work is exercised.
std::string Definition200() {
    json::array blocks;
    int n = 0;
    while (n < 200) {
        const std::string id = "b" + std::to_string(n);
        const std::string prev = n == 0 ? "$.inputs.seed" : "$.b" + std::to_string(n - 1);
        switch (n % 4) {
            case 0:
                blocks.push_back(json::object{{"id", id},
                                              {"type", "http"},
                                              {"method", "POST"},
                                              {"url", "https://api.example.com/items/{" + prev + ".body.id}"},
                                              {"headers", json::object{{"X-Trace", "{uuid}"}}},
                                              {"body", json::object{{"name", "{uppercase: {trim: " + prev + "}}"}}},
                                              {"retry", json::object{{"max_attempts", 3}}}});
                break;
            case 1:
                blocks.push_back(json::object{
                    {"id", id},
                    {"type", "variable"},
                    {"variable", "seen"},
                    {"operations", json::array{json::object{{"op", "append"}, {"value", "{" + prev + ".status}"}}}}});
                break;
            case 2: {
                const std::string inner = "b" + std::to_string(n + 1);
                blocks.push_back(json::object{
                    {"id", id},
                    {"type", "condition"},
                    {"conditions", json::array{json::object{{"left", "{" + prev + "}"}, {"op", "is_not_empty"}}}},
                    {"then",
                     json::array{json::object{{"id", inner}, {"type", "output"}, {"value", "{$." + id + "}"}}}}});
                ++n;
                break;
            }
            default:
                blocks.push_back(
                    json::object{{"id", id},
                                 {"type", "output"},
                                 {"mode", "append"},
                                 {"value", "{concat: 'n=', {count: $.variables.seen}, ' ', " + prev + "}"}});
        }
        ++n;
    }
    json::object def{{"schema", 1},
                     {"variables", json::array{json::object{{"name", "seen"}, {"type", "list"}}}},
                     {"flows", json::object{{"start", blocks}}}};
    return json::serialize(def);
}

void BM_ParseValidate200Blocks(benchmark::State& state) {
    const std::string text = Definition200();
    for (auto _ : state) {
        auto def = ParseDefinitionText(text);
        if (!def.ok()) state.SkipWithError("definition invalid");
        benchmark::DoNotOptimize(def);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseValidate200Blocks);

class Inputs final : public Scope {
  public:
    json::value inputs = json::object{
        {"name", "  ada lovelace  "},
        {"people", json::array{json::object{{"name", "Zed"}, {"age", 30}}, json::object{{"name", "Amy"}, {"age", 25}},
                               json::object{{"name", "Bob"}, {"age", 41}}}}};
    const json::value* Root(std::string_view name) const override { return name == "inputs" ? &inputs : nullptr; }
};

void BM_FormulaHeavyTemplate(benchmark::State& state) {
    auto t = ParseTemplate(
        "{uppercase: {trim: $.inputs.name}} | {date: now, 'D, d M Y H:i', 'Europe/Brussels'} | "
        "{join: {sort: {pluck: $.inputs.people, 'name'}}, ', '} | {sha256: $.inputs.name} | "
        "{round: {divide: {add: 1, 2, 3, {count: $.inputs.people}}, 7}, 2} | "
        "{if: {equals: {length: $.inputs.people}, 3}, 'three', 'other'} | {base64_encode: {json: $.inputs.people}}");
    if (!t.ok()) {
        state.SkipWithError("template invalid");
        return;
    }
    Inputs scope;
    FixedClock clock;
    FormulaContext ctx{&clock, [] { return std::string("u"); }};
    for (auto _ : state) {
        auto v = Evaluate(t.value(), scope, ctx);
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(BM_FormulaHeavyTemplate);

// 50 blocks: a loop over 1000 items whose body holds 47 blocks (variables, conditions, outputs).
std::string Definition50WithLoop() {
    json::array body;
    for (int i = 0; i < 47; ++i) {
        const std::string id = "s" + std::to_string(i);
        if (i % 3 == 0) {
            body.push_back(json::object{
                {"id", id},
                {"type", "variable"},
                {"variable", "total"},
                {"operations", json::array{json::object{{"op", "increment"}, {"value", "{$.loop.item.n}"}}}}});
        } else if (i % 3 == 1) {
            body.push_back(json::object{
                {"id", id},
                {"type", "condition"},
                {"conditions", json::array{json::object{
                                   {"left", "{$.loop.index}"}, {"op", "gt"}, {"right", "{$.variables.total}"}}}}});
        } else {
            body.push_back(
                json::object{{"id", id}, {"type", "output"}, {"value", "{$.loop.item.name}-{$.loop.index}"}});
        }
    }
    json::array flow{json::object{{"id", "init"},
                                  {"type", "variable"},
                                  {"variable", "total"},
                                  {"operations", json::array{json::object{{"op", "set"}, {"value", 0}}}}},
                     json::object{{"id", "loop"}, {"type", "loop"}, {"over", "{$.inputs.items}"}, {"do", body}},
                     json::object{{"id", "result"}, {"type", "output"}, {"value", "{$.variables.total}"}}};
    json::object def{{"variables", json::array{json::object{{"name", "total"}, {"type", "number"}}}},
                     {"flows", json::object{{"start", flow}}}};
    return json::serialize(def);
}

// Runs `definition` to its end once per iteration with `inputs`, counting executed blocks. `blocks_per_run`
// (when not 0) counts the blocks walked per run instead, for runs of disabled blocks that never execute.
void RunToEnd(benchmark::State& state, const std::string& definition, const json::object& inputs,
              EngineLimits limits = {}, std::int64_t blocks_per_run = 0) {
    auto def = ParseDefinitionText(definition);
    if (!def.ok()) {
        state.SkipWithError("definition invalid");
        return;
    }
    FixedClock clock;
    Engine engine(
        clock, [] { return std::string("u"); }, limits);
    std::int64_t blocks = 0;
    for (auto _ : state) {
        RunStart start;
        start.inputs = inputs;
        RunState run = engine.StartRun(*def.value(), std::move(start));
        auto step = engine.Step(*def.value(), run);
        if (!step.done() || run.status != RunStatus::kFinished) state.SkipWithError("run did not finish");
        blocks += blocks_per_run != 0 ? blocks_per_run : run.executed_blocks;
        benchmark::DoNotOptimize(run.TakeLogs());
    }
    state.counters["blocks/s"] = benchmark::Counter(static_cast<double>(blocks), benchmark::Counter::kIsRate);
    // The whole run's time divided by its blocks: start, log and output included, so the fixed cost of a run
    // weighs less as N grows; compare N = 10, 100, 1000 to see the per-block part alone.
    state.counters["per_block"] =
        benchmark::Counter(static_cast<double>(blocks), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Run50BlocksWith1000Iterations(benchmark::State& state) {
    json::array items;
    for (int i = 0; i < 1000; ++i) items.push_back(json::object{{"n", i}, {"name", "item" + std::to_string(i)}});
    RunToEnd(state, Definition50WithLoop(), json::object{{"items", items}});
}
BENCHMARK(BM_Run50BlocksWith1000Iterations)->Unit(benchmark::kMicrosecond);

// A whole in-memory run of 10 blocks (no I/O): start, execute, collect the output and the log.
std::string Definition10Blocks() {
    json::array flow;
    flow.push_back(json::object{{"id", "v0"},
                                {"type", "variable"},
                                {"variable", "total"},
                                {"operations", json::array{json::object{{"op", "set"}, {"value", "{$.inputs.n}"}}}}});
    for (int i = 1; i < 9; ++i) {
        flow.push_back(json::object{{"id", "v" + std::to_string(i)},
                                    {"type", "variable"},
                                    {"variable", "total"},
                                    {"operations", json::array{json::object{{"op", "increment"}, {"value", i}}}}});
    }
    flow.push_back(json::object{{"id", "out"}, {"type", "output"}, {"value", "{$.variables.total}"}});
    json::object def{{"variables", json::array{json::object{{"name", "total"}, {"type", "number"}}}},
                     {"flows", json::object{{"start", flow}}}};
    return json::serialize(def);
}

void BM_Run10Blocks(benchmark::State& state) { RunToEnd(state, Definition10Blocks(), json::object{{"n", 5}}); }
BENCHMARK(BM_Run10Blocks)->Unit(benchmark::kMicrosecond);

// Engine overhead per block. Each run is N blocks that do next to nothing, so a run's time over N is what the
// engine spends around a block: walking the sequence, the limit checks, the clock, the log entry, storing the
// block's output. A `variable` block that sets a number to a constant is the cheapest block that still
// evaluates a template and produces an output and a log entry.
std::string DefinitionOfBlocks(std::int64_t n, const std::function<json::object(const std::string&)>& block) {
    json::array flow;
    for (std::int64_t i = 0; i < n; ++i) flow.push_back(block("b" + std::to_string(i)));
    json::object def{{"variables", json::array{json::object{{"name", "x"}, {"type", "number"}}}},
                     {"flows", json::object{{"start", flow}}}};
    return json::serialize(def);
}

json::object SetConstant(const std::string& id) {
    return json::object{{"id", id},
                        {"type", "variable"},
                        {"variable", "x"},
                        {"operations", json::array{json::object{{"op", "set"}, {"value", 1}}}}};
}

// N variable blocks, each with its log entry.
void BM_PerBlockSetConstant(benchmark::State& state) {
    RunToEnd(state, DefinitionOfBlocks(state.range(0), SetConstant), {});
}
BENCHMARK(BM_PerBlockSetConstant)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// The same runs with logging cut off at once (a 1-byte log limit: one "truncated" entry, then no entries), so
// the difference with BM_PerBlockSetConstant is the cost of a block's log entry.
void BM_PerBlockSetConstantNoLog(benchmark::State& state) {
    EngineLimits limits;
    limits.max_log_bytes = 1;
    RunToEnd(state, DefinitionOfBlocks(state.range(0), SetConstant), {}, limits);
}
BENCHMARK(BM_PerBlockSetConstantNoLog)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// N disabled blocks: the bare cost of walking past a block (no template, no log entry, no output).
void BM_PerBlockDisabled(benchmark::State& state) {
    auto disabled = [](const std::string& id) {
        json::object b = SetConstant(id);
        b["disabled"] = true;
        return b;
    };
    RunToEnd(state, DefinitionOfBlocks(state.range(0), disabled), {}, {}, state.range(0));
}
BENCHMARK(BM_PerBlockDisabled)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// N variable blocks inside a loop body (one iteration), where the engine finds each block's sequence through
// its loop frame rather than the flow.
void BM_PerBlockSetConstantInLoop(benchmark::State& state) {
    json::array body;
    for (std::int64_t i = 0; i < state.range(0); ++i) body.push_back(SetConstant("b" + std::to_string(i)));
    json::object def{
        {"variables", json::array{json::object{{"name", "x"}, {"type", "number"}}}},
        {"flows",
         json::object{{"start", json::array{json::object{
                                    {"id", "loop"}, {"type", "loop"}, {"over", json::array{1}}, {"do", body}}}}}}};
    RunToEnd(state, json::serialize(def), {});
}
BENCHMARK(BM_PerBlockSetConstantInLoop)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace weft::engine
