#include "engine/run_driver.h"

#include <mutex>

namespace weft::engine {

namespace {

class Driver : public std::enable_shared_from_this<Driver> {
  public:
    Driver(const Engine& engine, std::shared_ptr<const Definition> def, std::shared_ptr<RunState> state,
           EffectHost& host, DriveHooks hooks)
        : engine_(engine), def_(std::move(def)), state_(std::move(state)), host_(host), hooks_(std::move(hooks)) {}

    // Steps until the run ends or an effect completes later, on another call stack.
    void Pump() {
        while (true) {
            if (hooks_.stop && hooks_.stop->load()) state_->RequestStop();
            StepResult step = engine_.Step(*def_, *state_);
            if (hooks_.after_step) hooks_.after_step(*state_);
            if (step.done()) {
                if (hooks_.finished) hooks_.finished(*state_);
                return;
            }
            {
                std::lock_guard lock(mutex_);
                perform_returned_ = false;
                completed_inline_ = false;
            }
            host_.Perform(*step.effect, [self = shared_from_this()](EffectResult result) {
                self->state_->Resume(std::move(result));
                std::unique_lock lock(self->mutex_);
                if (!self->perform_returned_) {
                    self->completed_inline_ = true;  // the loop in Pump carries on
                    return;
                }
                lock.unlock();
                self->Pump();
            });
            std::lock_guard lock(mutex_);
            perform_returned_ = true;
            if (!completed_inline_) return;
        }
    }

  private:
    const Engine& engine_;
    std::shared_ptr<const Definition> def_;
    std::shared_ptr<RunState> state_;
    EffectHost& host_;
    DriveHooks hooks_;
    std::mutex mutex_;
    bool perform_returned_ = false;
    bool completed_inline_ = false;
};

}  // namespace

void Drive(const Engine& engine, std::shared_ptr<const Definition> def, std::shared_ptr<RunState> state,
           EffectHost& host, DriveHooks hooks) {
    std::make_shared<Driver>(engine, std::move(def), std::move(state), host, std::move(hooks))->Pump();
}

}  // namespace weft::engine
