#pragma once

#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "domain/automation_service.h"
#include "domain/run_service.h"
#include "domain/store.h"

namespace weft {

// The parts of an automation's life that run its Settings and Delete flows (AUTOMATIONS.md section 1), and
// the calls that act on a bundle's members with it.
class AutomationFlows {
  public:
    AutomationFlows(Store& store, AutomationService& automations, RunService& runs)
        : store_(store), automations_(automations), runs_(runs) {}

    // Merges `values` into the persisted inputs of the automation or, on a bundle, of every automation of the
    // bundle that declares the field (each field must be a persisted input of at least one). Each automation
    // that got values and has a Settings flow gets a Settings run (context `settings`) with them. Everything is
    // checked, and the Settings runs queued, before anything is saved: a refusal (validation, queue_full)
    // changes nothing.
    Status SetPersistedInputs(const Partner& partner, const Account& account, const Automation& automation,
                              const json::object& values);

    // Removes the automation (a bundle: its members first). One with a Delete flow is not removed at once: a
    // run of that flow (context `delete`) is queued and the automation goes when that run finishes (the store
    // removes it in the transaction that records the run's end); a Delete run that fails or is stopped leaves
    // the automation in place. Returns the Delete runs queued (empty: everything is gone already). `force`, or
    // an expired account (which cannot run anything), removes without running Delete flows. A Delete run that
    // cannot be queued (queue_full) is the error, and that automation is kept.
    Result<std::vector<Run>> Delete(const Partner& partner, const Account& account, const Automation& automation,
                                    bool force);

  private:
    Store& store_;
    AutomationService& automations_;
    RunService& runs_;
};

}  // namespace weft
