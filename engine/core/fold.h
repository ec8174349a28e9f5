// Folding events into instance state. State is a pure function of the
// events: Fold(events) == the state Decide() kept while producing them.
#ifndef APPROVALD_CORE_FOLD_H_
#define APPROVALD_CORE_FOLD_H_

#include <vector>

#include "approvald/event.h"
#include "approvald/instance.h"
#include "approvald/status.h"

namespace approvald {

// Applies one event. Fails (kInternal, "corrupt_history") if the event does
// not fit the state: wrong version, unknown type, a node that is not active.
Status Apply(InstanceState& state, const Event& e);

// Folds a whole history, starting from an empty state.
Result<InstanceState> Fold(const std::vector<Event>& events);

}  // namespace approvald

#endif  // APPROVALD_CORE_FOLD_H_
