#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace weft::sql {

// The wait before a batch that Combiner and Batcher share: a batch that would be smaller than the last one first
// waits up to `max` for as many as the last one had, and goes as soon as they are there. Larger batches cost less
// per request when most of a batch's cost does not depend on its size (a statement, a commit); at a steady rate
// the batches keep their size, and a lone request (last batch of one) never waits. All under the owner's lock.
class BatchGather {
  public:
    explicit BatchGather(std::chrono::microseconds max) : max_(max) {}

    // After a request joined the pending ones: wakes the waiting caller once there are enough.
    void Joined(std::size_t pending) {
        if (waiting_ && pending >= last_) enough_.notify_one();
    }
    // Before taking the pending requests as a batch (`pending()` counts them); `lock` holds the owner's mutex.
    template <typename Pending>
    void Wait(std::unique_lock<std::mutex>& lock, Pending&& pending) {
        if (max_.count() <= 0 || pending() >= last_) return;
        waiting_ = true;
        enough_.wait_for(lock, max_, [&] { return pending() >= last_; });
        waiting_ = false;
    }
    void Took(std::size_t batch) { last_ = batch; }

  private:
    const std::chrono::microseconds max_;
    std::condition_variable enough_;
    std::size_t last_ = 0;  // requests in the last batch
    bool waiting_ = false;
};

// Combines concurrent calls into batches: a caller adds its request and, when no batch is running, runs every
// request waiting (its own included) as one batch; otherwise it waits until a batch has handled its request.
// One batch runs at a time, so requests arriving while one commits form the next: an application-level group
// commit. `Request` needs a `bool done` that the batch function sets for each request it handled.
//
// Each caller waits on its own condition variable: when a batch ends, only its callers are woken, and the
// first caller still waiting, which leads the next batch (waking every waiter for every batch made a busy
// process spend more on wake-ups than on its batches). Requests a throwing batch left undone go into the next
// batch; the exception reaches the caller that ran the batch.
//
// With a `gather` time, the caller about to lead a batch first waits as BatchGather says.
template <typename Request>
class Combiner {
  public:
    explicit Combiner(std::chrono::microseconds gather = std::chrono::microseconds(0)) : gather_(gather) {}

    template <typename RunBatch>
    void Submit(Request& request, RunBatch&& run_batch) {
        Waiter me(&request);
        std::unique_lock lock(mu_);
        pending_.push_back(&me);
        gather_.Joined(pending_.size());
        while (!me.released) {
            if (busy_) {
                me.cv.wait(lock);
                continue;
            }
            busy_ = true;
            gather_.Wait(lock, [this] { return pending_.size(); });
            std::vector<Waiter*> batch = std::exchange(pending_, {});
            gather_.Took(batch.size());
            lock.unlock();
            std::vector<Request*> requests;
            requests.reserve(batch.size());
            for (Waiter* w : batch) requests.push_back(w->request);
            std::exception_ptr failure;
            try {
                run_batch(requests);
            } catch (...) {
                failure = std::current_exception();
            }
            lock.lock();
            busy_ = false;
            std::vector<Waiter*> again;
            for (Waiter* w : batch) {
                if (w->request->done || (failure && w == &me)) {
                    // Released under the lock: the waiter leaves (and its condition variable goes) only after.
                    w->released = true;
                    if (w != &me) w->cv.notify_one();
                } else {
                    again.push_back(w);
                }
            }
            pending_.insert(pending_.begin(), again.begin(), again.end());
            if (!pending_.empty()) pending_.front()->cv.notify_one();  // leads the next batch
            if (failure) std::rethrow_exception(failure);
        }
    }

  private:
    struct Waiter {
        explicit Waiter(Request* r) : request(r) {}
        Request* request;
        std::condition_variable cv;
        bool released = false;
    };

    BatchGather gather_;
    std::mutex mu_;
    std::vector<Waiter*> pending_;
    bool busy_ = false;
};

// Batches items whose callers do not wait: Add queues the item and returns at once when a batch is being run;
// otherwise the caller runs batches (every item queued so far, its own first) until none is left. One batch
// runs at a time. An exception from a batch reaches the caller running it; later items wait for the next Add.
//
// With a `gather` time, the caller running batches first waits as BatchGather says before each.
template <typename Item>
class Batcher {
  public:
    explicit Batcher(std::chrono::microseconds gather = std::chrono::microseconds(0)) : gather_(gather) {}

    template <typename RunBatch>
    void Add(Item item, RunBatch&& run_batch) {
        {
            std::lock_guard lock(mu_);
            pending_.push_back(std::move(item));
            gather_.Joined(pending_.size());
            if (busy_) return;
            busy_ = true;
        }
        for (;;) {
            std::vector<Item> batch;
            {
                std::unique_lock lock(mu_);
                if (pending_.empty()) {
                    busy_ = false;
                    return;
                }
                gather_.Wait(lock, [this] { return pending_.size(); });
                batch.swap(pending_);
                gather_.Took(batch.size());
            }
            try {
                run_batch(batch);
            } catch (...) {
                std::lock_guard lock(mu_);
                busy_ = false;
                throw;
            }
        }
    }

  private:
    BatchGather gather_;
    std::mutex mu_;
    std::vector<Item> pending_;
    bool busy_ = false;
};

}  // namespace weft::sql
