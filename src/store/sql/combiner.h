#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace weft::sql {

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
// With a `gather` time, a caller about to lead a batch smaller than the last one first waits up to that long for
// more requests, as many as the last batch had (it goes as soon as they are there). Larger batches cost less per
// request when most of a batch's cost does not depend on its size (a statement, a commit); at a steady rate the
// batches keep their size, and a lone caller (last batch of one) never waits.
template <typename Request>
class Combiner {
  public:
    explicit Combiner(std::chrono::microseconds gather = std::chrono::microseconds(0)) : gather_(gather) {}

    template <typename RunBatch>
    void Submit(Request& request, RunBatch&& run_batch) {
        Waiter me(&request);
        std::unique_lock lock(mu_);
        pending_.push_back(&me);
        if (gatherer_ && pending_.size() >= last_size_) gatherer_->cv.notify_one();
        while (!me.released) {
            if (busy_) {
                me.cv.wait(lock);
                continue;
            }
            busy_ = true;
            if (gather_.count() > 0 && pending_.size() < last_size_) {
                gatherer_ = &me;
                me.cv.wait_for(lock, gather_, [&] { return pending_.size() >= last_size_; });
                gatherer_ = nullptr;
            }
            std::vector<Waiter*> batch = std::exchange(pending_, {});
            last_size_ = batch.size();
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

    const std::chrono::microseconds gather_;
    std::mutex mu_;
    std::vector<Waiter*> pending_;
    bool busy_ = false;
    std::size_t last_size_ = 0;   // requests in the last batch
    Waiter* gatherer_ = nullptr;  // the caller waiting for more requests before leading a batch
};

// Batches items whose callers do not wait: Add queues the item and returns at once when a batch is being run;
// otherwise the caller runs batches (every item queued so far, its own first) until none is left. One batch
// runs at a time. An exception from a batch reaches the caller running it; later items wait for the next Add.
//
// With a `gather` time, as Combiner: before running a batch smaller than the last one, the caller running batches
// waits up to that long for as many items as the last batch had.
template <typename Item>
class Batcher {
  public:
    explicit Batcher(std::chrono::microseconds gather = std::chrono::microseconds(0)) : gather_(gather) {}

    template <typename RunBatch>
    void Add(Item item, RunBatch&& run_batch) {
        {
            std::lock_guard lock(mu_);
            pending_.push_back(std::move(item));
            if (gathering_ && pending_.size() >= last_size_) gathered_.notify_one();
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
                if (gather_.count() > 0 && pending_.size() < last_size_) {
                    gathering_ = true;
                    gathered_.wait_for(lock, gather_, [&] { return pending_.size() >= last_size_; });
                    gathering_ = false;
                }
                batch.swap(pending_);
                last_size_ = batch.size();
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
    const std::chrono::microseconds gather_;
    std::mutex mu_;
    std::condition_variable gathered_;  // the caller running batches: as many items as the last batch had
    std::vector<Item> pending_;
    bool busy_ = false;
    std::size_t last_size_ = 0;  // items in the last batch
    bool gathering_ = false;
};

}  // namespace weft::sql
