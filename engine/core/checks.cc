// The built-in checks and their registry.
//
// A check reads the form, the node's `params` and the unit configuration;
// it never reaches outside them. What it needs from other instances (invoice
// numbers already claimed, the year's purchases) arrives as CheckFacts,
// gathered by the service before Decide().
#include "core/checks.h"

#include <set>

#include "core/record_util.h"

namespace approvald {

std::string_view CheckVerdictName(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::kPass: return "pass";
    case CheckVerdict::kFail: return "fail";
    case CheckVerdict::kFlag: return "flag";
  }
  return "pass";
}

void CheckRegistry::Register(std::string name, CheckFn fn) {
  checks_[std::move(name)] = std::move(fn);
}

const CheckFn* CheckRegistry::Find(const std::string& name) const {
  auto it = checks_.find(name);
  return it == checks_.end() ? nullptr : &it->second;
}

std::vector<std::string> CheckRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, fn] : checks_) out.push_back(name);
  return out;
}

namespace {

std::string Param(const CheckInput& in, const std::string& key,
                  const std::string& def) {
  if (!in.params) return def;
  auto it = in.params->find(key);
  return it != in.params->end() && it->second.is_string() ? it->second.as_string()
                                                           : def;
}

// duplicate_invoice: every invoice number in the form's list must be unique
// within the form and unused by any other reimbursement (facts
// "invoice_numbers"). params: field (default "invoices"), key (default
// "number").
Result<CheckOutcome> DuplicateInvoice(const CheckInput& in) {
  std::string field = Param(in, "field", "invoices");
  std::string key = Param(in, "key", "number");
  CheckOutcome out;
  std::set<std::string> used;
  if (in.facts)
    for (const Value& v : rec::List(in.facts->values, "invoice_numbers"))
      if (v.is_string()) used.insert(v.as_string());
  std::set<std::string> seen;
  int64_t checked = 0;
  auto it = in.form->find(field);
  if (it != in.form->end() && it->second.is_list()) {
    for (const Value& item : it->second.as_list()) {
      std::string number;
      if (item.is_record()) number = rec::Str(item.as_record(), key);
      else if (item.is_string()) number = item.as_string();
      if (number.empty()) continue;
      ++checked;
      if (!seen.insert(number).second)
        out.reasons.push_back("duplicate_in_request:" + number);
      else if (used.count(number))
        out.reasons.push_back("duplicate_invoice:" + number);
    }
  }
  out.verdict = out.reasons.empty() ? CheckVerdict::kPass : CheckVerdict::kFail;
  out.details["checked"] = Value::Int(checked);
  out.details["known_numbers"] = Value::Int(static_cast<int64_t>(used.size()));
  return out;
}

// expense_standard: compares the claimed amount with the unit's standard for
// its category (config "expense_standards": {category: {per_person_day: fen
// | limit: fen, source: text}}). Over the standard -> flag (the workflow
// routes flagged claims to an extra approval with a justification).
// params: category (field, default "category"), amount (default "amount"),
// people (optional int field), days (optional int field).
Result<CheckOutcome> ExpenseStandard(const CheckInput& in) {
  CheckOutcome out;
  const auto& form = *in.form;
  auto get = [&](const std::string& name) -> const Value* {
    auto it = form.find(name);
    return it == form.end() ? nullptr : &it->second;
  };
  const Value* cat = get(Param(in, "category", "category"));
  const Value* amount = get(Param(in, "amount", "amount"));
  if (!cat || !cat->is_string() || !amount || !amount->is_money()) {
    out.verdict = CheckVerdict::kFlag;
    out.reasons.push_back("standard_fields_missing");
    return out;
  }
  const auto& standards = rec::Sub(*in.config, "expense_standards");
  const auto& std_rec = rec::Sub(standards, cat->as_string());
  out.details["category"] = Value::Str(cat->as_string());
  if (std_rec.empty()) {
    out.details["standard"] = Value::Str("none configured");
    return out;  // no standard for this category: nothing to compare
  }
  int64_t people = 1, days = 1;
  std::string pf = Param(in, "people", ""), df = Param(in, "days", "");
  if (const Value* v = pf.empty() ? nullptr : get(pf); v && v->is_int()) people = v->as_int();
  if (const Value* v = df.empty() ? nullptr : get(df); v && v->is_int()) days = v->as_int();
  int64_t limit = 0;
  if (const Value* per = rec::Find(std_rec, "per_person_day"); per && per->is_money()) {
    if (people < 0 || days < 0 || (people && days && per->as_money().fen > INT64_MAX / people / days))
      return InvalidArgument("bad_form", "people/days out of range");
    limit = per->as_money().fen * people * days;
  } else if (const Value* lim = rec::Find(std_rec, "limit"); lim && lim->is_money()) {
    limit = lim->as_money().fen;
  } else {
    return InvalidArgument("bad_config", "expense standard for '" + cat->as_string() +
                                             "' has neither per_person_day nor limit");
  }
  out.details["limit"] = Value::Of(Money{limit});
  out.details["amount"] = *amount;
  out.details["source"] = Value::Str(rec::Str(std_rec, "source"));
  if (amount->as_money().fen > limit) {
    out.verdict = CheckVerdict::kFlag;
    out.reasons.push_back("over_standard:" + cat->as_string());
  }
  return out;
}

}  // namespace

const CheckRegistry& CheckRegistry::Builtin() {
  static const CheckRegistry* registry = [] {
    auto* r = new CheckRegistry();
    r->Register("duplicate_invoice", DuplicateInvoice);
    r->Register("expense_standard", ExpenseStandard);
    return r;
  }();
  return *registry;
}

}  // namespace approvald
