// Facts for the built-in checks that look beyond one instance
// (core/checks.h): duplicate_invoice needs the invoice numbers other
// reimbursements claim, split_purchase the unit's other purchases,
// passed_decision and decision_register the 三重一大 decisions by number.
//
// Two halves, both driven by the workflow's check nodes and their params (no
// workflow ids are named here):
//   - FactsOf: what an instance states, stored with its events as FactRows
//     (Store::Append, AppendRequest::facts) and indexed by (kind, key);
//   - GatherFacts: before Decide, the facts of OTHER live instances
//     (status running or approved; rejected, withdrawn and cancelled ones
//     drop out) that the instance's own fields point at, one indexed lookup
//     per key (Store::FindFacts).
//
// Stored fact kinds:
//   "invoice"   key: an invoice number of a duplicate_invoice node's field;
//               data: {}.
//   "purchase"  key: the budget project; data: a PurchaseFact record
//               (core/checks.h) without `instance`, taken from the
//               procurement_method check event (details: method, item.code,
//               amount, object_type, budget_project, fiscal_year) or, without
//               one, the split_purchase event (details.split), plus the
//               supplier field and the Shanghai day of submission.
//   "supplier"  key: the supplier; the same data, for supplier_repeat.
//   "decision"  key: a decision number (决策文号) of a collective-decision
//               topic, stated once its decision_register check passed; data:
//               a DecisionFact (core/checks.h) without `instance`: number,
//               category, amount, topic from the check's details, result
//               and date of the last meeting_closed event before it.
// A purchase is stated only once a check decided its method; an instance
// re-states its facts whenever its form changes, such a check runs again or
// it ends (approved, rejected, withdrawn, cancelled).
//
// Exclusive facts (FactRow::exclusive): an invoice number and a decision
// number belong to one live instance at a time. While the instance is live
// (running or approved) its "invoice" and "decision" rows are exclusive; once
// it is rejected, withdrawn or cancelled they are re-stated non-exclusive,
// so the number is free again. The store refuses an append whose exclusive
// fact another instance already holds (kRejected "duplicate_invoice" /
// "duplicate_decision"), atomically with the check: two claims of one
// invoice decided at the same moment cannot both be stored.
//
// Concurrency otherwise: two requests decided at the same moment do not see
// each other (each sees what was stored before it); the second one's
// non-exclusive facts (purchases) are stored all the same, so a later
// request sees both.
#ifndef APPROVALD_SERVICE_FACTS_H_
#define APPROVALD_SERVICE_FACTS_H_

#include <optional>
#include <vector>

#include "approvald/command.h"
#include "approvald/event.h"
#include "approvald/instance.h"
#include "approvald/status.h"
#include "approvald/store.h"
#include "approvald/workflow.h"
#include "core/checks.h"

namespace approvald {

inline constexpr char kFactKindInvoice[] = "invoice";
inline constexpr char kFactKindPurchase[] = "purchase";
inline constexpr char kFactKindSupplier[] = "supplier";
inline constexpr char kFactKindDecision[] = "decision";

// True if a check node of `def` reads or states facts (duplicate_invoice,
// procurement_method, split_purchase, passed_decision, decision_register). Workflows
// without one never touch the store's facts.
bool UsesFacts(const WorkflowDef& def);

// The facts the check nodes of `def` need to decide `cmd` on `state` (an
// empty state for a submit). The form looked at is state.form with cmd.data
// laid over it. Sets kFactInvoiceNumbers when `def` has a duplicate_invoice
// node, kFactPurchases when it has a split_purchase node and kFactDecisions
// when it has a passed_decision or decision_register node; an empty record
// otherwise. Fails with the store's error.
Result<CheckFacts> GatherFacts(Store& store, const WorkflowDef& def,
                               const InstanceState& state, const Command& cmd);

// The facts the instance states after `events` (the new events of one
// decision) led to `state`, or nullopt when nothing they depend on changed
// (no submission, no form change, no fact check ran): the stored facts stay.
// When a purchase's deciding check event is not among `events`, the earlier
// events are read from `store` (state.id). Fails with the store's error.
Result<std::optional<std::vector<FactRow>>> FactsOf(Store& store, const WorkflowDef& def,
                                                    const InstanceState& state,
                                                    const std::vector<Event>& events);

}  // namespace approvald

#endif  // APPROVALD_SERVICE_FACTS_H_
