#include "service/facts.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "core/events.h"
#include "core/record_util.h"

namespace approvald {
namespace {

constexpr char kDuplicateInvoice[] = "duplicate_invoice";
constexpr char kProcurementMethod[] = "procurement_method";
constexpr char kSplitPurchase[] = "split_purchase";
constexpr char kPassedDecision[] = "passed_decision";
constexpr char kDecisionRegister[] = "decision_register";

bool IsFactCheck(const std::string& check) {
  return check == kDuplicateInvoice || check == kProcurementMethod ||
         check == kSplitPurchase || check == kPassedDecision ||
         check == kDecisionRegister;
}

// True while the instance may still hold what it claims: its exclusive facts
// (invoice numbers, decision numbers) stay exclusive only then.
bool IsLive(InstanceStatus s) {
  return s == InstanceStatus::kRunning || s == InstanceStatus::kApproved ||
         s == InstanceStatus::kDraft;
}

// A node param naming a form field, or `def` when the node leaves it out.
std::string ParamOr(const NodeDef& n, const std::string& name, const std::string& def) {
  auto it = n.params.find(name);
  return it != n.params.end() && it->second.is_string() ? it->second.as_string() : def;
}

std::vector<const NodeDef*> CheckNodes(const WorkflowDef& def, const std::string& check) {
  std::vector<const NodeDef*> out;
  for (const NodeDef& n : def.nodes)
    if (n.kind == NodeKind::kCheck && n.check == check) out.push_back(&n);
  return out;
}

// The invoice numbers of every duplicate_invoice node's field, sorted, once
// each (the check's own reading: list of records with `key`, or of text).
std::vector<std::string> InvoiceNumbers(const WorkflowDef& def, const FormData& form) {
  std::set<std::string> numbers;
  for (const NodeDef* n : CheckNodes(def, kDuplicateInvoice)) {
    std::string key = ParamOr(*n, "key", "number");
    auto it = form.find(ParamOr(*n, "field", "invoices"));
    if (it == form.end() || !it->second.is_list()) continue;
    for (const Value& item : it->second.as_list()) {
      std::string number = item.is_record()   ? rec::Str(item.as_record(), key)
                           : item.is_string() ? item.as_string()
                                              : std::string();
      if (!number.empty()) numbers.insert(std::move(number));
    }
  }
  return {numbers.begin(), numbers.end()};
}

// The decision numbers the form names: the ref_field of passed_decision nodes
// and the number_field of decision_register nodes, trimmed, once each.
std::vector<std::string> DecisionNumbers(const WorkflowDef& def, const FormData& form) {
  std::set<std::string> out;
  for (auto [check, param, dflt] : {std::tuple<const char*, const char*, const char*>{
                                        kPassedDecision, "ref_field", "decision_ref"},
                                    {kDecisionRegister, "number_field", "decision_no"}})
    for (const NodeDef* n : CheckNodes(def, check)) {
      auto it = form.find(ParamOr(*n, param, dflt));
      if (it == form.end() || !it->second.is_string()) continue;
      const std::string& text = it->second.as_string();
      size_t b = text.find_first_not_of(" \t\r\n");
      if (b == std::string::npos) continue;
      size_t e = text.find_last_not_of(" \t\r\n");
      out.insert(text.substr(b, e - b + 1));
    }
  return {out.begin(), out.end()};
}

// The decision a collective-decision instance states: from the last
// decision_register check event that passed, with the result and Shanghai
// day of the last meeting closed before it; nullopt when none passed.
std::optional<FactRow> DecisionOf(const std::vector<const Event*>& history) {
  const Event* reg = nullptr;
  const Event* closed = nullptr;
  const Event* closed_before_reg = nullptr;
  for (const Event* e : history) {
    if (e->type == ev::kMeetingClosed) closed = e;
    if (e->type == ev::kCheckCompleted &&
        rec::Str(e->data, "check") == kDecisionRegister) {
      if (rec::Str(e->data, "verdict") == "pass") {
        reg = e;
        closed_before_reg = closed;
      } else {
        reg = nullptr;  // a later failed registration withdraws the number
      }
    }
  }
  if (!reg) return std::nullopt;
  const Value::Record& d = rec::Sub(reg->data, "details");
  std::string number = rec::Str(d, "number");
  if (number.empty()) return std::nullopt;
  Value::Record data;
  data["number"] = Value::Str(number);
  data["category"] = Value::Str(rec::Str(d, "category"));
  const Value* amount = rec::Find(d, "amount");
  data["amount"] = amount && amount->is_money() ? *amount : Value::Null();
  data["topic"] = Value::Str(rec::Str(d, "topic"));
  // Without a meeting record the registration proves nothing: not passed.
  data["result"] = Value::Str(
      closed_before_reg ? rec::Str(closed_before_reg->data, "result") : "no_meeting");
  data["date"] = closed_before_reg ? Value::Of(ShanghaiDateOf(closed_before_reg->at))
                                   : Value::Of(ShanghaiDateOf(reg->at));
  FactRow row{kFactKindDecision, number, std::move(data)};
  row.exclusive = true;
  return row;
}

// The text form fields `param` names in the procurement check nodes.
std::vector<std::string> TextFields(const WorkflowDef& def, const FormData& form,
                                    const std::string& param, const std::string& dflt) {
  std::set<std::string> out;
  for (const char* check : {kProcurementMethod, kSplitPurchase})
    for (const NodeDef* n : CheckNodes(def, check)) {
      auto it = form.find(ParamOr(*n, param, dflt));
      if (it != form.end() && it->second.is_string() && !it->second.as_string().empty())
        out.insert(it->second.as_string());
    }
  return {out.begin(), out.end()};
}

// The purchase an instance states, from the last check event that decided
// its method, or nullopt when none did (or it failed).
std::optional<Value::Record> PurchaseOf(const WorkflowDef& def, const InstanceState& state,
                                        const std::vector<const Event*>& checks) {
  const Event* method_event = nullptr;
  const Event* split_event = nullptr;
  for (const Event* e : checks) {
    const std::string check = rec::Str(e->data, "check");
    if (rec::Str(e->data, "verdict") == "fail") continue;
    if (check == kProcurementMethod) method_event = e;
    if (check == kSplitPurchase) split_event = e;
  }
  Value::Record p;
  if (method_event) {
    const Value::Record& d = rec::Sub(method_event->data, "details");
    if (rec::Str(d, "method").empty()) return std::nullopt;
    for (const char* key : {"method", "object_type", "budget_project"})
      p[key] = Value::Str(rec::Str(d, key));
    // details.item is {code, centralised, ...}.
    const Value* item = rec::Find(d, "item");
    p["item"] = Value::Str(item && item->is_record() ? rec::Str(item->as_record(), "code")
                                                     : rec::Str(d, "item"));
    p["fiscal_year"] = Value::Int(rec::Int(d, "fiscal_year"));
    const Value* amount = rec::Find(d, "amount");
    if (!amount || !amount->is_money()) return std::nullopt;
    p["amount"] = *amount;
  } else if (split_event) {
    const Value::Record& s = rec::Sub(rec::Sub(split_event->data, "details"), "split");
    if (rec::Str(s, "request_method").empty()) return std::nullopt;
    p["method"] = Value::Str(rec::Str(s, "request_method"));
    p["item"] = Value::Str(rec::Str(s, "item"));
    p["budget_project"] = Value::Str(rec::Str(s, "budget_project"));
    p["fiscal_year"] = Value::Int(rec::Int(s, "fiscal_year"));
    const Value* amount = rec::Find(s, "request_amount");
    if (!amount || !amount->is_money()) return std::nullopt;
    p["amount"] = *amount;
  } else {
    return std::nullopt;
  }
  auto suppliers = TextFields(def, state.form, "supplier_field", "supplier");
  p["supplier"] = Value::Str(suppliers.empty() ? std::string() : suppliers.front());
  p["date"] = Value::Of(ShanghaiDateOf(state.created_at));
  return p;
}

bool ChangesFacts(const Event& e) {
  if (e.type == ev::kSubmitted || e.type == ev::kResubmitted) return true;
  // Ending (approved, rejected, withdrawn, cancelled) changes whether the
  // instance's numbers stay exclusive.
  if (e.type == ev::kCompleted || e.type == ev::kWithdrawn) return true;
  if (e.type == ev::kSigned && !rec::Sub(e.data, "fields").empty()) return true;
  return e.type == ev::kCheckCompleted && IsFactCheck(rec::Str(e.data, "check"));
}

}  // namespace

bool UsesFacts(const WorkflowDef& def) {
  return std::any_of(def.nodes.begin(), def.nodes.end(), [](const NodeDef& n) {
    return n.kind == NodeKind::kCheck && IsFactCheck(n.check);
  });
}

Result<CheckFacts> GatherFacts(Store& store, const WorkflowDef& def,
                               const InstanceState& state, const Command& cmd) {
  CheckFacts facts;
  if (!UsesFacts(def)) return facts;
  FormData form = state.form;
  for (const auto& [k, v] : cmd.data) form[k] = v;

  if (!CheckNodes(def, kDuplicateInvoice).empty()) {
    FactQuery q;
    q.kind = kFactKindInvoice;
    q.keys = InvoiceNumbers(def, form);
    q.exclude = state.id;
    Value::List used;
    if (!q.keys.empty()) {
      auto hits = store.FindFacts(q);
      if (!hits) return std::unexpected(hits.error());
      std::set<std::string> seen;
      for (const FactHit& h : *hits)
        if (seen.insert(h.fact.key).second) used.push_back(Value::Str(h.fact.key));
    }
    facts.values[kFactInvoiceNumbers] = Value::Of(std::move(used));
  }

  if (!CheckNodes(def, kSplitPurchase).empty()) {
    std::map<int64_t, Value::Record> by_instance;
    for (auto [kind, param, dflt] :
         {std::tuple<const char*, const char*, const char*>{
              kFactKindPurchase, "budget_project_field", "budget_project"},
          {kFactKindSupplier, "supplier_field", "supplier"}}) {
      FactQuery q;
      q.kind = kind;
      q.keys = TextFields(def, form, param, dflt);
      q.exclude = state.id;
      if (q.keys.empty()) continue;
      auto hits = store.FindFacts(q);
      if (!hits) return std::unexpected(hits.error());
      for (const FactHit& h : *hits) {
        Value::Record r = h.fact.data;
        r["instance"] = Value::Int(h.instance.value);
        by_instance.emplace(h.instance.value, std::move(r));
      }
    }
    Value::List purchases;
    for (auto& [id, r] : by_instance) purchases.push_back(Value::Of(std::move(r)));
    facts.values[kFactPurchases] = Value::Of(std::move(purchases));
  }

  if (!CheckNodes(def, kPassedDecision).empty() ||
      !CheckNodes(def, kDecisionRegister).empty()) {
    FactQuery q;
    q.kind = kFactKindDecision;
    q.keys = DecisionNumbers(def, form);
    q.exclude = state.id;
    Value::List decisions;
    if (!q.keys.empty()) {
      auto hits = store.FindFacts(q);
      if (!hits) return std::unexpected(hits.error());
      for (const FactHit& h : *hits) {
        Value::Record r = h.fact.data;
        r["instance"] = Value::Int(h.instance.value);
        decisions.push_back(Value::Of(std::move(r)));
      }
    }
    facts.values[kFactDecisions] = Value::Of(std::move(decisions));
  }
  return facts;
}

Result<std::optional<std::vector<FactRow>>> FactsOf(Store& store, const WorkflowDef& def,
                                                    const InstanceState& state,
                                                    const std::vector<Event>& events) {
  if (!UsesFacts(def) ||
      std::none_of(events.begin(), events.end(), ChangesFacts))
    return std::optional<std::vector<FactRow>>();
  const bool live = IsLive(state.status);
  std::vector<FactRow> rows;
  for (const std::string& number : InvoiceNumbers(def, state.form)) {
    FactRow row{kFactKindInvoice, number, {}};
    row.exclusive = live;  // one live reimbursement per invoice number
    rows.push_back(std::move(row));
  }

  bool buys = !CheckNodes(def, kProcurementMethod).empty() ||
              !CheckNodes(def, kSplitPurchase).empty();
  bool decides = !CheckNodes(def, kDecisionRegister).empty();
  std::vector<Event> earlier;
  if (decides && state.id.value != 0) {
    // The meeting's result precedes the registration: read the whole history.
    auto loaded = store.LoadEvents(state.id);
    if (!loaded) return std::unexpected(loaded.error());
    earlier = std::move(*loaded);
    std::vector<const Event*> history;
    for (const Event& e : earlier) history.push_back(&e);
    for (const Event& e : events) history.push_back(&e);
    if (auto row = DecisionOf(history)) {
      row->exclusive = live;  // one live topic per decision number
      rows.push_back(std::move(*row));
    }
  }
  if (buys) {
    std::vector<const Event*> checks;
    auto is_check = [](const Event& e) {
      return e.type == ev::kCheckCompleted && IsFactCheck(rec::Str(e.data, "check"));
    };
    bool in_batch = std::any_of(events.begin(), events.end(), is_check);
    if (!in_batch && earlier.empty() && state.id.value != 0) {
      auto loaded = store.LoadEvents(state.id);
      if (!loaded) return std::unexpected(loaded.error());
      earlier = std::move(*loaded);
    }
    for (const Event& e : earlier)
      if (is_check(e)) checks.push_back(&e);
    for (const Event& e : events)
      if (is_check(e)) checks.push_back(&e);
    if (auto p = PurchaseOf(def, state, checks)) {
      std::string project = rec::Str(*p, "budget_project");
      std::string supplier = rec::Str(*p, "supplier");
      if (!project.empty()) rows.push_back(FactRow{kFactKindPurchase, project, *p});
      if (!supplier.empty()) rows.push_back(FactRow{kFactKindSupplier, supplier, *p});
    }
  }
  return std::optional<std::vector<FactRow>>(std::move(rows));
}

}  // namespace approvald
