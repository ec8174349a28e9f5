// Automatic check steps: named, pure functions a workflow's `kind: check`
// node calls. Each returns pass / fail / flag with reasons. The registry is
// filled at start-up with the built-in checks below.
//
// Every amount and threshold a check compares with comes from the unit
// configuration (CheckInput::config, the record core/unit_config.h documents
// and config/README.md explains); the check records in `details` which entry
// decided, with its source and confidence tag (V/S/U). Dates are the Asia/
// Shanghai day of `now`. Params that name form fields end in `_field` (the
// workflow loader checks those fields exist); the defaults below apply when a
// node leaves a param out. A form field that is absent or null counts as not
// given.
//
// Verdicts: `fail` refuses (the workflow's on_fail, by default `rejected`);
// `flag` routes to on_flag (an extra approval, the 三重一大 path). A problem
// the requester cannot fix (a configuration gap, malformed facts from the
// service) is an Error (kInternal), not a verdict.
//
// duplicate_invoice   Each invoice number of the form appears once and was not
//                     claimed by another reimbursement. fail:
//                     "duplicate_in_request:<no>", "duplicate_invoice:<no>".
//   params: field ("invoices": a list of records or of text), key ("number").
//   facts:  "invoice_numbers": list of text, numbers used by other instances.
//
// expense_standard    The claim against the standard of its category in force
//                     (config expense_standards). Kinds: limit (whole claim),
//                     per_person, per_person_day, per_person_day_by_class (the
//                     class read from the form, e.g. 会议 class1..class4) and
//                     companions (公务接待 陪餐: at most max_small companions up
//                     to small_group guests, else guests x ratio, rounded
//                     down). An entry with several kinds must meet each.
//                     flag "over_standard:<category>" (amount) /
//                     "over_standard:<category>:companions"; with a
//                     justification_field, over standard without a
//                     justification is fail "justification_required:<category>".
//                     flag "standard_fields_missing:<field>" when a field the
//                     standard needs is not given, "unknown_class:<class>" when
//                     the table has no such class. No entry: pass.
//   params: category_field ("category"), amount_field ("amount"),
//           people_field ("attendees"), days_field ("days"),
//           class_field ("standard_class"), guests_field ("guests"),
//           companions_field ("companions"), justification_field (none).
//
// large_amount        flag "large_amount:<fund_source>" when the amount is at
//                     or above the 三重一大 threshold in force for its fund
//                     source (config large_amount; a fund source without an
//                     entry uses default_fund_source, recorded as
//                     fund_source_fallback). Pass below it; fail
//                     "fields_missing:<field>" without an amount.
//   params: amount_field ("amount"), fund_source_field ("fund_source").
//
// passed_decision     The request names (ref_field) a 三重一大 decision that
//                     passed: facts "decisions" hold a decision with that
//                     number whose meeting result is "passed", whose category
//                     is one of params.categories (when given) and, when both
//                     state an amount, that authorised at least the request's
//                     amount. fail "decision_ref_missing" (no number given),
//                     "decision_unknown:<ref>" (no live topic has the number),
//                     "decision_ambiguous:<ref>" (two topics have it),
//                     "decision_not_passed:<ref>:<result>" (failed / deferred
//                     缓议), "decision_wrong_category:<ref>:<category>",
//                     "decision_amount_exceeded:<ref>" (the request is above
//                     what the decision authorised). details: ref, decision
//                     {instance, category, result, date, amount, topic}.
//   params: ref_field ("decision_ref"), amount_field ("amount"), categories
//           (a list of category option names; absent: any category).
//   facts:  "decisions": list of DecisionFact records (below).
//
// decision_register   Run by the collective-decision workflow once a topic
//                     passed: the decision number (number_field) is given and
//                     no other live topic holds it. fail "decision_no_missing",
//                     "decision_no_taken:<no>:<instance>". details: number,
//                     category, amount (null when not given), topic; the
//                     service turns them into the decision's fact
//                     (service/facts.h), with the meeting's result and date.
//   params: number_field ("decision_no"), category_field ("category"),
//           amount_field ("amount"), topic_field ("topic").
//   facts:  "decisions" (as for passed_decision).
//
// procurement_method  Classifies a purchase request against the catalogue of
//                     the unit's jurisdiction and budget level in force today:
//                       centralised    the item is in the catalogue's
//                                      centralised list (at or above the
//                                      item's min_amount);
//                       open_tender    amount >= the open-tender threshold of
//                                      its object type;
//                       decentralised  amount >= the decentralised threshold;
//                       below_limit    otherwise (the unit's own purchase).
//                     details: method, rule, rule_text, open_tender_required
//                     (also for centralised items), catalogue {id, version,
//                     effective_from, jurisdiction, document, confidence},
//                     thresholds {object_type, decentralised, open_tender,
//                     each with _confidence; null when the catalogue has none},
//                     item, amount, object_type, budget_project, fiscal_year,
//                     fund_source, large_amount {...}, collective_decision.
//                     flag "collective_decision_required:<method>" when the
//                     method (or open tender, when required) is in config
//                     procurement.collective_decision.methods, and
//                     "collective_decision_required:large_amount" when
//                     collective_decision.large_amount is on and the amount
//                     reaches the large-amount threshold. pass otherwise.
//                     fail "procurement_fields_missing:<field>",
//                     "invalid_object_type:<value>",
//                     "object_type_mismatch:<code>:<type>" for a request it
//                     cannot classify.
//   params: item_field ("item_code"), object_type_field ("object_type":
//           goods | services | works; absent: from the code's letter, A goods,
//           B works, C services), amount_field ("amount"),
//           budget_project_field ("budget_project"), fiscal_year_field
//           ("fiscal_year"; absent: the Shanghai year of now),
//           fund_source_field ("fund_source").
//
// required_by_category  Fields (attachments) a category requires, e.g. a
//                     meeting claim needs the notice and the sign-in sheet.
//                     fail "required_missing:<category>:<field>" for each
//                     required field absent, null or empty (text, list);
//                     fail "fields_missing:<category_field>" without a
//                     category. A category the mapping leaves out requires
//                     nothing. details: category, required.
//   params: category_field ("category"), required (a mapping: category ->
//           list of field names, or one name).
//
// split_purchase      化整为零 (政府采购法实施条例 Art. 28): the purchases of
//                     facts "purchases" with the same budget project, the same
//                     品目 (or category: codes sharing config
//                     split_purchase.category_prefix characters), the same
//                     fiscal year, a method not in excluded_methods and not
//                     exempt, plus this request, reach the open-tender
//                     threshold of its object type -> flag
//                     "split_purchase:<instance>,<instance>,...". A request
//                     that is itself open tender is not a split. Also, with
//                     config procurement.supplier_repeat {count, days}: this
//                     request and the supplier's purchases dated less than
//                     `days` days from today make `count` or more -> flag
//                     "supplier_repeat:<supplier>:<instance>,...".
//                     fail "procurement_fields_missing:<field>" as above (the
//                     budget project is required here).
//   params: those of procurement_method, plus supplier_field ("supplier").
//   facts:  "purchases": list of PurchaseFact records (below).
#ifndef APPROVALD_CORE_CHECKS_H_
#define APPROVALD_CORE_CHECKS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/value.h"

namespace approvald {

enum class CheckVerdict { kPass, kFail, kFlag };
std::string_view CheckVerdictName(CheckVerdict v);  // "pass" | "fail" | "flag"

struct CheckOutcome {
  CheckVerdict verdict = CheckVerdict::kPass;
  std::vector<std::string> reasons;  // stable codes, e.g. "duplicate_invoice:FP-001"
  Value::Record details;  // recorded in the event (rule, catalogue version, ...)
};

// Facts from outside the instance that a check may need (other instances'
// invoice numbers, the year's purchases). The service gathers them before
// calling Decide; the core only reads them. Keys:
//
//   "invoice_numbers"  list of text: invoice numbers claimed by every other
//                      reimbursement that is not rejected, withdrawn or
//                      cancelled (the service looks up only the numbers the
//                      form names: service/facts.h).
//   "purchases"        list of PurchaseFact records: the unit's other purchase
//                      requests that are approved or still in progress (not
//                      this instance; rejected, withdrawn and cancelled ones
//                      left out), at least those of the current and previous
//                      fiscal year and of the supplier window. Each record:
//       instance        int (or text): the instance id, named in reasons
//       budget_project  text           form field of that request
//       item            text           品目 code
//       object_type     text           goods | services | works (optional)
//       fiscal_year     int
//       amount          Money
//       method          text           the method procurement_method decided
//                                      (details.method of its check event)
//       supplier        text           (optional, "" = not known yet)
//       date            Date           the Shanghai day it was submitted
//       exempt          bool           (optional) approved non-open-tender
//                                      method or budget adjustment (Art. 28
//                                      exceptions): not counted as a split
//   A record without instance, budget_project, item, fiscal_year, amount,
//   method or date, or with a wrong type, makes the check return an Error.
//   "decisions"        list of DecisionFact records: the 三重一大 decisions
//                      of live topics (running or approved) whose number is
//                      the one the form names. Each record:
//       instance        int (or text): the topic's instance id
//       number          text           the decision number (决策文号)
//       result          text           passed | failed | deferred: the last
//                                      meeting's result before the number
//       category        text           major_decision | personnel |
//                                      major_project | large_funds
//       date            Date           the Shanghai day of that meeting
//       amount          Money          (optional) the amount it concerns
//       topic           text           (optional)
//   A record without instance, number, result or category, or with a wrong
//   type, makes the check return an Error.
inline constexpr char kFactInvoiceNumbers[] = "invoice_numbers";
inline constexpr char kFactPurchases[] = "purchases";
inline constexpr char kFactDecisions[] = "decisions";

struct CheckFacts {
  Value::Record values;
};

struct CheckInput {
  const FormData* form = nullptr;
  const Org* org = nullptr;
  PersonId submitter;
  Timestamp now;
  const std::map<std::string, Value>* params = nullptr;  // from the node
  const CheckFacts* facts = nullptr;
  const Value::Record* config = nullptr;  // unit configuration (catalogue, thresholds)
};

using CheckFn = std::function<Result<CheckOutcome>(const CheckInput&)>;

// The set of named checks. Thread-compatible: fill it before use, then share
// it read-only.
class CheckRegistry {
 public:
  // The registry with every built-in check.
  static const CheckRegistry& Builtin();

  void Register(std::string name, CheckFn fn);
  bool Has(const std::string& name) const { return checks_.count(name) > 0; }
  const CheckFn* Find(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, CheckFn> checks_;
};

}  // namespace approvald

#endif  // APPROVALD_CORE_CHECKS_H_
