#include "engine/run_driver.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "test_support.h"

namespace weft::engine::testing {
namespace {

constexpr std::string_view kDef = R"({"variables": [{"name": "n", "type": "number"}], "flows": {"start": [
    {"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
        {"id": "nap", "type": "sleep", "seconds": 1},
        {"id": "v", "type": "variable", "variable": "n", "operations": [{"op": "increment"}]}]},
    {"id": "o", "type": "output", "value": "{$.variables.n}"}]}})";

// Answers every effect before Perform returns.
class InlineHost final : public EffectHost {
  public:
    void Perform(const Effect& effect, std::function<void(EffectResult)> done) override {
        ++performed;
        done(Harness::DefaultResponse(effect));
    }
    int performed = 0;
};

// Answers every effect later, from its own thread.
class ThreadHost final : public EffectHost {
  public:
    ThreadHost() : worker_([this] { Work(); }) {}
    ~ThreadHost() override {
        {
            std::lock_guard lock(mutex_);
            quit_ = true;
        }
        cv_.notify_all();
        worker_.join();
    }
    void Perform(const Effect& effect, std::function<void(EffectResult)> done) override {
        std::lock_guard lock(mutex_);
        queue_.emplace_back(Harness::DefaultResponse(effect), std::move(done));
        cv_.notify_all();
    }

  private:
    void Work() {
        std::unique_lock lock(mutex_);
        while (true) {
            cv_.wait(lock, [this] { return quit_ || !queue_.empty(); });
            if (queue_.empty()) return;
            auto job = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            job.second(std::move(job.first));
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<EffectResult, std::function<void(EffectResult)>>> queue_;
    bool quit_ = false;
    std::thread worker_;
};

std::shared_ptr<RunState> Start(Harness& h, int items) {
    h.Load(kDef);
    json::array list;
    for (int i = 0; i < items; ++i) list.push_back(i);
    RunStart start;
    start.inputs = json::object{{"items", list}};
    return std::make_shared<RunState>(h.engine->StartRun(*h.def, start));
}

TEST(RunDriverTest, InlineAnswersDoNotRecurse) {
    Harness h;
    auto state = Start(h, 20000);
    InlineHost host;
    int finished = 0;
    std::size_t logs = 0;
    Drive(*h.engine, h.def, state, host,
          {[&logs](RunState& s) { logs += s.TakeLogs().size(); }, [&finished](RunState&) { ++finished; }, nullptr});
    EXPECT_EQ(finished, 1);
    EXPECT_EQ(host.performed, 20000);
    EXPECT_EQ(state->status, RunStatus::kFinished);
    EXPECT_EQ(state->output, json::value(20000));
    EXPECT_EQ(logs, 40002u);
}

TEST(RunDriverTest, AnswersFromAnotherThread) {
    Harness h;
    auto state = Start(h, 200);
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    {
        ThreadHost host;
        Drive(*h.engine, h.def, state, host,
              {nullptr,
               [&](RunState&) {
                   std::lock_guard lock(m);
                   done = true;
                   cv.notify_all();
               },
               nullptr});
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done; }));
    }
    EXPECT_EQ(state->status, RunStatus::kFinished);
    EXPECT_EQ(state->output, json::value(200));
}

TEST(RunDriverTest, StopFlagStopsTheRun) {
    Harness h;
    auto state = Start(h, 100);
    auto stop = std::make_shared<std::atomic<bool>>(false);
    // A host that raises the stop flag after the third effect.
    class StoppingHost final : public EffectHost {
      public:
        explicit StoppingHost(std::shared_ptr<std::atomic<bool>> flag) : flag_(std::move(flag)) {}
        void Perform(const Effect& effect, std::function<void(EffectResult)> done) override {
            if (++count_ == 3) flag_->store(true);
            done(Harness::DefaultResponse(effect));
        }

      private:
        std::shared_ptr<std::atomic<bool>> flag_;
        int count_ = 0;
    } host(stop);
    Drive(*h.engine, h.def, state, host, {nullptr, nullptr, stop});
    EXPECT_EQ(state->status, RunStatus::kStopped);
    EXPECT_EQ(state->variables.get_object()["n"], json::value(2));
}

}  // namespace
}  // namespace weft::engine::testing
