#include "jobs/scheduler.h"

#include <spdlog/spdlog.h>

#include <map>

#include "core/ids.h"
#include "domain/schedule.h"

namespace weft::jobs {

namespace {

constexpr int kDueBatch = 500;

}  // namespace

Scheduler::Scheduler(Store& store, const Clock& clock, AsyncRuntime& runtime, const DefinitionChecker& checker,
                     RunEvents& events, MetricsRegistry& metrics, std::chrono::milliseconds tick_interval)
    : store_(store),
      clock_(clock),
      runtime_(runtime),
      checker_(checker),
      events_(events),
      tick_interval_(tick_interval),
      fired_(metrics.CounterFor("weft_schedule_fired_total")),
      skipped_overlap_(metrics.CounterFor("weft_schedule_skipped_total", "reason=\"overlap\"")),
      skipped_queue_full_(metrics.CounterFor("weft_schedule_skipped_total", "reason=\"queue_full\"")),
      skipped_invalid_(metrics.CounterFor("weft_schedule_skipped_total", "reason=\"invalid_inputs\"")) {
    metrics.Describe("weft_schedule_fired_total", "counter", "Scheduled ticks that queued a run.");
    metrics.Describe("weft_schedule_skipped_total", "counter",
                     "Scheduled ticks skipped: the previous scheduled run still queued or running (overlap), the "
                     "account's queue full, or the automation's required inputs missing.");
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
    running_ = true;
    ScheduleNext();
}

void Scheduler::Stop() {
    running_ = false;
    std::lock_guard lock(mu_);
    if (timer_) timer_->Cancel();
}

void Scheduler::ScheduleNext() {
    if (!running_) return;
    auto t = runtime_.After(tick_interval_, [this] {
        if (!active_ || active_()) Tick();
        ScheduleNext();
    });
    std::lock_guard lock(mu_);
    timer_ = std::move(t);
}

int Scheduler::Tick() {
    const Micros now = clock_.Now();
    auto due = store_.DueSchedules(now, kDueBatch);
    if (!due) {
        spdlog::error("scheduler: listing due schedules failed: {}", due.error().detail);
        return 0;
    }
    std::map<PartnerId, Partner> partners;
    int queued = 0;
    for (const auto& [b, account] : *due) {
        const Micros tick = *b.next_fire_at;
        const std::optional<Micros> next = TickAfter(b, tick, now);
        auto partner_it = partners.find(account.partner_id);
        if (partner_it == partners.end()) {
            auto p = store_.GetPartner(account.partner_id);
            if (!p) continue;
            partner_it = partners.emplace(account.partner_id, std::move(*p)).first;
        }
        auto persisted = ParseJson(b.persisted_inputs);
        auto inputs = checker_.ResolveInputs(
            b.definition, "start", {}, persisted && persisted->is_object() ? persisted->as_object() : json::object{});
        std::optional<Run> run;
        if (inputs) {
            Run r;
            r.account_id = account.id;
            r.automation_id = b.id;
            r.guid = NewGuid(now);
            r.inputs = ToJson(*inputs);
            r.created_at = r.updated_at = now;
            run = std::move(r);
        } else {
            spdlog::warn("scheduler: automation {} skipped a tick: {}", b.guid, inputs.error().message);
        }
        auto fired = store_.FireSchedule(b.id, tick, next, run, partner_it->second.limits.queue_cap);
        if (!fired) {
            spdlog::error("scheduler: firing automation {} failed: {}", b.guid, fired.error().detail);
            continue;
        }
        switch (fired->outcome) {
            case FireOutcome::kFired:
                fired_.Add();
                ++queued;
                break;
            case FireOutcome::kSkippedOverlap:
                skipped_overlap_.Add();
                break;
            case FireOutcome::kQueueFull:
                skipped_queue_full_.Add();
                break;
            case FireOutcome::kAdvanced:
                skipped_invalid_.Add();
                break;
            case FireOutcome::kStale:
                break;
        }
    }
    if (queued > 0) events_.Enqueued();
    return queued;
}

}  // namespace weft::jobs
