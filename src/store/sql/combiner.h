#pragma once

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace weft::sql {

// Combines concurrent calls into batches: a caller adds its request and, when no batch is running, runs every
// request waiting (its own included) as one batch; otherwise it waits until a batch has handled its request.
// One batch runs at a time, so requests arriving while one commits form the next: an application-level group
// commit. `Request` needs a `bool done` that the batch function sets for each request it handled.
template <typename Request>
class Combiner {
  public:
    template <typename RunBatch>
    void Submit(Request& request, RunBatch&& run_batch) {
        std::unique_lock lock(mu_);
        pending_.push_back(&request);
        while (!request.done) {
            if (busy_) {
                cv_.wait(lock);
                continue;
            }
            busy_ = true;
            std::vector<Request*> batch = std::exchange(pending_, {});
            lock.unlock();
            try {
                run_batch(batch);
            } catch (...) {
                lock.lock();
                busy_ = false;
                cv_.notify_all();
                throw;
            }
            lock.lock();
            busy_ = false;
            cv_.notify_all();
        }
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Request*> pending_;
    bool busy_ = false;
};

}  // namespace weft::sql
