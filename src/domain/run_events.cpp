#include "domain/run_events.h"

namespace weft {

void RunEvents::OnFinished(std::int64_t run_id, FinishedFn fn) {
    std::lock_guard lock(mu_);
    waiters_.emplace(run_id, std::move(fn));
}

void RunEvents::Finished(const Run& run) {
    std::vector<FinishedFn> fns;
    {
        std::lock_guard lock(mu_);
        auto [first, last] = waiters_.equal_range(run.id);
        for (auto it = first; it != last; ++it) fns.push_back(std::move(it->second));
        waiters_.erase(first, last);
    }
    for (auto& fn : fns) fn(run);
}

bool RunEvents::HasWaiters(std::int64_t run_id) {
    std::lock_guard lock(mu_);
    return waiters_.count(run_id) > 0;
}

std::vector<std::int64_t> RunEvents::WaitedRunIds() {
    std::vector<std::int64_t> ids;
    std::lock_guard lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end(); it = waiters_.upper_bound(it->first)) {
        ids.push_back(it->first);
    }
    return ids;
}

void RunEvents::Clear() {
    std::multimap<std::int64_t, FinishedFn> waiters;
    {
        std::lock_guard lock(mu_);
        waiters.swap(waiters_);
        wake_ = nullptr;
        stop_ = nullptr;
    }
}

void RunEvents::SetWakeHandler(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    wake_ = std::move(fn);
}

void RunEvents::Enqueued() {
    std::function<void()> wake;
    {
        std::lock_guard lock(mu_);
        wake = wake_;
    }
    if (wake) wake();
}

void RunEvents::SetStopHandler(std::function<void(std::int64_t)> fn) {
    std::lock_guard lock(mu_);
    stop_ = std::move(fn);
}

void RunEvents::StopRequested(std::int64_t run_id) {
    std::function<void(std::int64_t)> stop;
    {
        std::lock_guard lock(mu_);
        stop = stop_;
    }
    if (stop) stop(run_id);
}

}  // namespace weft
