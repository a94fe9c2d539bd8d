#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "engine/definition.h"
#include "engine/effects.h"
#include "engine/engine.h"
#include "engine/run_state.h"

namespace weft::engine {

// What a host provides so runs can wait on the outside world without holding a thread. The jobs
// layer implements it over its Beast HTTP client (with the outbound address guard), its timers and
// its run queue; tests implement it with canned answers.
class EffectHost {
  public:
    virtual ~EffectHost() = default;
    // Starts performing `effect` and calls `done` exactly once with the outcome, from any thread,
    // possibly before Perform returns.
    virtual void Perform(const Effect& effect, std::function<void(EffectResult)> done) = 0;
};

struct DriveHooks {
    // After every Step: drain state.TakeLogs(), persist the state if wanted. Optional.
    std::function<void(RunState&)> after_step;
    // Once, when the run has ended. Optional.
    std::function<void(RunState&)> finished;
    // Polled before every Step; when it reads true the run stops at the next block boundary (or at
    // once while waiting). Set it from any thread. Optional.
    std::shared_ptr<const std::atomic<bool>> stop;
};

// Runs `state` to its end: Step, hand the effect to `host`, Resume and Step again in the host's
// completion. No thread waits for an effect, and effects answered inline do not grow the stack.
// `host` must outlive the run; the definition and state are kept alive by the driver.
void Drive(const Engine& engine, std::shared_ptr<const Definition> def, std::shared_ptr<RunState> state,
           EffectHost& host, DriveHooks hooks = {});

}  // namespace weft::engine
