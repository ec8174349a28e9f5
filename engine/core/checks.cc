// The built-in checks and their registry.
//
// A check reads the form, the node's `params` and the unit configuration;
// it never reaches outside them. What it needs from other instances (invoice
// numbers already claimed, the year's purchases) arrives as CheckFacts,
// gathered by the service before Decide().
#include "core/checks.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <utility>

#include "core/record_util.h"

namespace approvald {

std::string_view CheckVerdictName(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::kPass:
      return "pass";
    case CheckVerdict::kFail:
      return "fail";
    case CheckVerdict::kFlag:
      return "flag";
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

// ---------------------------------------------------------------------------
// Reading params, the form, the configuration and the facts.

std::string Param(const CheckInput& in, const std::string& key, const std::string& def) {
  if (!in.params) return def;
  auto it = in.params->find(key);
  return it != in.params->end() && it->second.is_string() ? it->second.as_string() : def;
}

// The form value of the field named by param `param` (default `def`), or
// null when the param names no field or the field is absent or null.
const Value* FormField(const CheckInput& in, const std::string& param,
                       const std::string& def) {
  std::string name = Param(in, param, def);
  if (name.empty() || !in.form) return nullptr;
  auto it = in.form->find(name);
  if (it == in.form->end() || it->second.is_null()) return nullptr;
  return &it->second;
}

std::string FieldName(const CheckInput& in, const std::string& param,
                      const std::string& def) {
  return Param(in, param, def);
}

std::unexpected<Error> ConfigError(const std::string& reason,
                                   const std::string& message) {
  return MakeError(ErrorCode::kInternal, reason, message);
}

bool Contains(const Value::List& list, const std::string& s) {
  for (const Value& v : list) {
    if (v.is_string() && v.as_string() == s) return true;
  }
  return false;
}

int YearOf(Date d) {
  int y;
  unsigned m, day;
  CivilFromDate(d, &y, &m, &day);
  return y;
}

// The entry of `entries` in force on `today`: of the records for which
// `keep` holds, the one with the latest `from` on or before today (a record
// without `from` counts as in force since ever). A single record instead of a
// list is always in force (the plain shape some callers build by hand).
template <class Keep>
const Value::Record* InForce(const Value& entries, Date today, Keep keep) {
  if (entries.is_record()) return &entries.as_record();
  if (!entries.is_list()) return nullptr;
  const Value::Record* best = nullptr;
  Date best_from;
  for (const Value& e : entries.as_list()) {
    if (!e.is_record() || !keep(e.as_record())) continue;
    const Value* from = rec::Find(e.as_record(), "from");
    Date f =
        from && std::holds_alternative<Date>(from->v) ? from->as_date() : Date{INT32_MIN};
    if (today < f) continue;
    if (best == nullptr || best_from < f) {
      best = &e.as_record();
      best_from = f;
    }
  }
  return best;
}

const Value::Record* InForce(const Value& entries, Date today) {
  return InForce(entries, today, [](const Value::Record&) { return true; });
}

Value DateOrNull(const Value::Record& r, const std::string& key) {
  const Value* v = rec::Find(r, key);
  return v && std::holds_alternative<Date>(v->v) ? *v : Value::Null();
}

// The large-amount (三重一大) threshold entry in force for `fund_source`, or
// for the default fund source when it has none.
struct LargeAmount {
  const Value::Record* entry = nullptr;
  std::string fund_source;
  bool fallback = false;
};

Result<LargeAmount> FindLargeAmount(const Value::Record& config,
                                    const std::string& requested, Date today) {
  const std::string def = rec::Str(config, "default_fund_source");
  static const Value kNone;
  const Value* list = rec::Find(config, "large_amount");
  auto find = [&](const std::string& source) {
    return InForce(
        list && list->is_list() ? *list : kNone, today,
        [&](const Value::Record& e) { return rec::Str(e, "fund_source") == source; });
  };
  LargeAmount out;
  out.fund_source = requested.empty() ? def : requested;
  out.entry = find(out.fund_source);
  if (!out.entry && out.fund_source != def) {
    out.entry = find(def);
    out.fallback = true;
    out.fund_source = def;
  }
  if (!out.entry || !rec::Find(*out.entry, "threshold") ||
      !rec::Find(*out.entry, "threshold")->is_money()) {
    return ConfigError("no_large_amount_threshold",
                       "no large_amount threshold in force on " + FormatDate(today) +
                           " for fund source '" + (requested.empty() ? def : requested) +
                           "' or the default '" + def +
                           "' — add an entry to config/unit.yaml");
  }
  return out;
}

Value::Record LargeAmountDetails(const LargeAmount& la) {
  Value::Record d;
  d["fund_source"] = Value::Str(la.fund_source);
  d["threshold"] = *rec::Find(*la.entry, "threshold");
  d["from"] = DateOrNull(*la.entry, "from");
  d["confidence"] = Value::Str(rec::Str(*la.entry, "confidence"));
  d["source"] = Value::Str(rec::Str(*la.entry, "source"));
  if (la.fallback) d["fund_source_fallback"] = Value::Bool(true);
  return d;
}

Money MoneyOf(const Value::Record& r, const std::string& key) {
  const Value* v = rec::Find(r, key);
  return v && v->is_money() ? v->as_money() : Money{};
}

// ---------------------------------------------------------------------------
// duplicate_invoice

Result<CheckOutcome> DuplicateInvoice(const CheckInput& in) {
  std::string field = Param(in, "field", "invoices");
  std::string key = Param(in, "key", "number");
  CheckOutcome out;
  std::set<std::string> used;
  if (in.facts)
    for (const Value& v : rec::List(in.facts->values, kFactInvoiceNumbers))
      if (v.is_string()) used.insert(v.as_string());
  std::set<std::string> seen;
  int64_t checked = 0;
  auto it = in.form->find(field);
  if (it != in.form->end() && it->second.is_list()) {
    for (const Value& item : it->second.as_list()) {
      std::string number;
      if (item.is_record())
        number = rec::Str(item.as_record(), key);
      else if (item.is_string())
        number = item.as_string();
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

// ---------------------------------------------------------------------------
// expense_standard

// a * b without overflow, or nullopt.
std::optional<int64_t> Mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

Result<CheckOutcome> ExpenseStandard(const CheckInput& in) {
  CheckOutcome out;
  auto missing = [&](const std::string& param, const std::string& def) {
    out.verdict = CheckVerdict::kFlag;
    std::string reason = "standard_fields_missing:" + FieldName(in, param, def);
    if (std::find(out.reasons.begin(), out.reasons.end(), reason) == out.reasons.end())
      out.reasons.push_back(std::move(reason));
  };
  const Value* cat = FormField(in, "category_field", "category");
  const Value* amount = FormField(in, "amount_field", "amount");
  if (!cat || !cat->is_string()) missing("category_field", "category");
  if (!amount || !amount->is_money()) missing("amount_field", "amount");
  if (!out.reasons.empty()) return out;
  const std::string category = cat->as_string();
  const Date today = ShanghaiDateOf(in.now);
  out.details["category"] = Value::Str(category);
  out.details["amount"] = *amount;
  const Value* standards = rec::Find(rec::Sub(*in.config, "expense_standards"), category);
  const Value::Record* entry = standards ? InForce(*standards, today) : nullptr;
  if (!entry) {
    out.details["standard"] = Value::Str(
        standards ? "none in force on " + FormatDate(today) : "none configured");
    return out;  // nothing to compare with
  }
  bool sets_any = false;
  for (const char* kind :
       {"limit", "per_person", "per_person_day", "per_person_day_by_class", "companions"})
    sets_any = sets_any || rec::Find(*entry, kind) != nullptr;
  if (!sets_any) {
    return ConfigError("bad_unit_config",
                       "expense standard for '" + category +
                           "' sets no limit, per_person, per_person_day, "
                           "per_person_day_by_class or companions");
  }
  out.details["from"] = DateOrNull(*entry, "from");
  out.details["source"] = Value::Str(rec::Str(*entry, "source"));
  out.details["confidence"] = Value::Str(rec::Str(*entry, "confidence"));

  // Integer fields (people, days, guests, companions), >= 0.
  auto count = [&](const std::string& param,
                   const std::string& def) -> std::optional<int64_t> {
    const Value* v = FormField(in, param, def);
    if (!v || !v->is_int() || v->as_int() < 0) {
      missing(param, def);
      return std::nullopt;
    }
    out.details[def] = *v;
    return v->as_int();
  };

  // The amount limit: the smallest of the kinds the entry sets.
  std::optional<int64_t> limit;
  std::string rule;
  auto consider = [&](int64_t l, const std::string& kind) {
    if (!limit || l < *limit) {
      limit = l;
      rule = kind;
    }
  };
  auto too_large = [&]() {
    return InvalidArgument("bad_form",
                           "the number of people or days is too "
                           "large to compute the standard");
  };
  if (const Value* v = rec::Find(*entry, "limit"); v && v->is_money())
    consider(v->as_money().fen, "limit");
  if (const Value* v = rec::Find(*entry, "per_person"); v && v->is_money()) {
    if (auto people = count("people_field", "attendees")) {
      auto l = Mul(v->as_money().fen, *people);
      if (!l) return too_large();
      consider(*l, "per_person");
    }
  }
  const Value* ppd = rec::Find(*entry, "per_person_day");
  const Value* by_class = rec::Find(*entry, "per_person_day_by_class");
  if ((ppd && ppd->is_money()) || (by_class && by_class->is_record())) {
    std::optional<int64_t> rate;
    std::string kind = "per_person_day";
    if (ppd && ppd->is_money()) rate = ppd->as_money().fen;
    if (by_class && by_class->is_record()) {
      const Value* cls = FormField(in, "class_field", "standard_class");
      if (!cls || !cls->is_string()) {
        missing("class_field", "standard_class");
      } else {
        out.details["class"] = *cls;
        const Value* r = rec::Find(by_class->as_record(), cls->as_string());
        if (!r || !r->is_money()) {
          out.verdict = CheckVerdict::kFlag;
          out.reasons.push_back("unknown_class:" + cls->as_string());
        } else if (!rate || r->as_money().fen < *rate) {
          rate = r->as_money().fen;
          kind = "per_person_day_by_class";
        }
      }
    }
    auto people = count("people_field", "attendees");
    auto days = count("days_field", "days");
    if (rate && people && days) {
      auto pd = Mul(*people, *days);
      auto l = pd ? Mul(*rate, *pd) : std::nullopt;
      if (!l) return too_large();
      out.details["rate"] = Value::Of(Money{*rate});
      consider(*l, kind);
    }
  }
  const bool fields_missing = !out.reasons.empty();
  bool over = false;
  if (limit) {
    out.details["limit"] = Value::Of(Money{*limit});
    out.details["rule"] = Value::Str(rule);
    if (amount->as_money().fen > *limit) {
      over = true;
      out.reasons.push_back("over_standard:" + category);
    }
  }
  if (const Value* c = rec::Find(*entry, "companions"); c && c->is_record()) {
    auto guests = count("guests_field", "guests");
    auto companions = count("companions_field", "companions");
    if (guests && companions) {
      const Value::Record& cr = c->as_record();
      int64_t allowed = *guests <= rec::Int(cr, "small_group")
                            ? rec::Int(cr, "max_small")
                            : *guests * rec::Int(cr, "ratio_num", 1) /
                                  std::max<int64_t>(1, rec::Int(cr, "ratio_den", 1));
      out.details["companions_allowed"] = Value::Int(allowed);
      if (*companions > allowed) {
        over = true;
        out.reasons.push_back("over_standard:" + category + ":companions");
      }
    }
  }
  if (over || fields_missing) out.verdict = CheckVerdict::kFlag;
  std::string jf = Param(in, "justification_field", "");
  if (over && !jf.empty()) {
    const Value* j = FormField(in, "justification_field", "");
    bool given = j && j->is_string() &&
                 j->as_string().find_first_not_of(" \t\r\n") != std::string::npos;
    if (!given) {
      out.verdict = CheckVerdict::kFail;
      out.reasons.push_back("justification_required:" + category);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// large_amount

Result<CheckOutcome> LargeAmountCheck(const CheckInput& in) {
  CheckOutcome out;
  const Value* amount = FormField(in, "amount_field", "amount");
  if (!amount || !amount->is_money()) {
    out.verdict = CheckVerdict::kFail;
    out.reasons.push_back("fields_missing:" + FieldName(in, "amount_field", "amount"));
    return out;
  }
  const Value* fund = FormField(in, "fund_source_field", "fund_source");
  auto la =
      FindLargeAmount(*in.config, fund && fund->is_string() ? fund->as_string() : "",
                      ShanghaiDateOf(in.now));
  if (!la) return std::unexpected(la.error());
  out.details = LargeAmountDetails(*la);
  out.details["amount"] = *amount;
  if (amount->as_money() >= MoneyOf(*la->entry, "threshold")) {
    out.verdict = CheckVerdict::kFlag;
    out.reasons.push_back("large_amount:" + la->fund_source);
  }
  return out;
}

// ---------------------------------------------------------------------------
// procurement_method and split_purchase

// What a purchase request says, read from the form through the params.
struct Request {
  std::string item;
  std::string object_type;
  Money amount;
  std::string budget_project;
  int64_t fiscal_year = 0;
  std::string fund_source;
  std::string supplier;
};

// The object type a 品目分类目录 code names by its letter (A goods, B works,
// C services, then digits), or "" for anything else.
std::string TypeOfCode(const std::string& code) {
  if (code.size() < 2) return "";
  for (size_t i = 1; i < code.size(); ++i)
    if (code[i] < '0' || code[i] > '9') return "";
  switch (code[0]) {
    case 'A':
      return "goods";
    case 'B':
      return "works";
    case 'C':
      return "services";
    default:
      return "";
  }
}

bool IsObjectType(const std::string& t) {
  return t == "goods" || t == "services" || t == "works";
}

// Reads the request. A problem the requester must fix is added to
// `out->reasons` (verdict fail) and nullopt returned.
std::optional<Request> ReadRequest(const CheckInput& in, bool need_project,
                                   CheckOutcome* out) {
  Request r;
  auto text = [&](const std::string& param, const std::string& def, bool required,
                  std::string* to) {
    const Value* v = FormField(in, param, def);
    if (v && v->is_string() && !v->as_string().empty()) {
      *to = v->as_string();
    } else if (required) {
      out->reasons.push_back("procurement_fields_missing:" + FieldName(in, param, def));
    }
  };
  text("item_field", "item_code", true, &r.item);
  const Value* amount = FormField(in, "amount_field", "amount");
  if (amount && amount->is_money()) {
    r.amount = amount->as_money();
  } else {
    out->reasons.push_back("procurement_fields_missing:" +
                           FieldName(in, "amount_field", "amount"));
  }
  text("budget_project_field", "budget_project", need_project, &r.budget_project);
  text("fund_source_field", "fund_source", false, &r.fund_source);
  text("supplier_field", "supplier", false, &r.supplier);
  const Value* year = FormField(in, "fiscal_year_field", "fiscal_year");
  r.fiscal_year =
      year && year->is_int() ? year->as_int() : YearOf(ShanghaiDateOf(in.now));
  const Value* type = FormField(in, "object_type_field", "object_type");
  const std::string code_type = TypeOfCode(r.item);
  if (type && type->is_string() && !type->as_string().empty()) {
    r.object_type = type->as_string();
    if (!IsObjectType(r.object_type)) {
      out->reasons.push_back("invalid_object_type:" + r.object_type);
    } else if (!code_type.empty() && code_type != r.object_type) {
      out->reasons.push_back("object_type_mismatch:" + r.item + ":" + r.object_type);
    }
  } else if (!code_type.empty()) {
    r.object_type = code_type;
  } else if (!r.item.empty()) {
    out->reasons.push_back("procurement_fields_missing:" +
                           FieldName(in, "object_type_field", "object_type"));
  }
  if (!out->reasons.empty()) {
    out->verdict = CheckVerdict::kFail;
    return std::nullopt;
  }
  return r;
}

// The catalogue of the unit's jurisdiction and budget level in force on
// `today`: effective_from <= today < superseded_on, the latest
// effective_from.
Result<const Value::Record*> SelectCatalogue(const Value::Record& config, Date today) {
  const Value::Record& unit = rec::Sub(config, "unit");
  const std::string jurisdiction = rec::Str(unit, "jurisdiction");
  const std::string level = rec::Str(unit, "budget_level");
  const Value::Record* best = nullptr;
  for (const Value& c : rec::List(config, "procurement_catalogues")) {
    if (!c.is_record()) continue;
    const Value::Record& cat = c.as_record();
    if (rec::Str(cat, "jurisdiction") != jurisdiction) continue;
    if (!Contains(rec::List(cat, "budget_levels"), level)) continue;
    const Value* from = rec::Find(cat, "effective_from");
    if (!from || !std::holds_alternative<Date>(from->v) || today < from->as_date())
      continue;
    const Value* until = rec::Find(cat, "superseded_on");
    if (until && std::holds_alternative<Date>(until->v) && !(today < until->as_date()))
      continue;
    if (!best || rec::Find(*best, "effective_from")->as_date() < from->as_date())
      best = &cat;
  }
  if (!best) {
    return ConfigError("no_catalogue_in_force",
                       "no procurement catalogue for jurisdiction '" + jurisdiction +
                           "', budget level '" + level + "' is in force on " +
                           FormatDate(today) +
                           " — add one to config/procurement-catalogue.yaml");
  }
  return best;
}

Value::Record CatalogueDetails(const Value::Record& cat) {
  Value::Record d;
  for (const char* key : {"id", "version", "jurisdiction", "document", "confidence"})
    d[key] = Value::Str(rec::Str(cat, key));
  d["effective_from"] = DateOrNull(cat, "effective_from");
  return d;
}

// The threshold of `kind` ("decentralised" | "open_tender") for `type`, or
// null when the catalogue has none.
const Value::Record* Threshold(const Value::Record& cat, const std::string& kind,
                               const std::string& type) {
  const Value* t = rec::Find(rec::Sub(cat, kind), type);
  return t && t->is_record() ? &t->as_record() : nullptr;
}

struct Classification {
  std::string method;
  std::string rule;
  std::string rule_text;
  bool open_tender_required = false;
  const Value::Record* item = nullptr;  // the centralised item, if any
  const Value::Record* decentralised = nullptr;
  const Value::Record* open_tender = nullptr;
};

Classification Classify(const Value::Record& cat, const Request& r) {
  Classification c;
  c.decentralised = Threshold(cat, "decentralised", r.object_type);
  c.open_tender = Threshold(cat, "open_tender", r.object_type);
  const std::string amount = FormatYuan(r.amount);
  if (c.open_tender && r.amount >= MoneyOf(*c.open_tender, "amount"))
    c.open_tender_required = true;
  for (const Value& v : rec::List(cat, "centralised")) {
    if (!v.is_record() || rec::Str(v.as_record(), "code") != r.item) continue;
    const Value::Record& item = v.as_record();
    const Value* min = rec::Find(item, "min_amount");
    if (min && min->is_money() && r.amount < min->as_money()) {
      c.rule_text = "item " + r.item + " " + rec::Str(item, "name") +
                    " is centralised only from " + FormatYuan(min->as_money()) + "; " +
                    amount + " is below. ";
      break;
    }
    c.item = &item;
    c.method = "centralised";
    c.rule = "centralised_item";
    c.rule_text += "item " + r.item + " " + rec::Str(item, "name") +
                   " is in the centralised catalogue" +
                   (min && min->is_money() ? " from " + FormatYuan(min->as_money())
                                           : std::string()) +
                   ": buy through the centralised procurement agency";
    if (c.open_tender_required)
      c.rule_text += "; " + amount + " >= open-tender threshold " +
                     FormatYuan(MoneyOf(*c.open_tender, "amount"));
    return c;
  }
  if (c.open_tender_required) {
    c.method = "open_tender";
    c.rule = "open_tender_threshold";
    c.rule_text += amount + " >= open-tender threshold " +
                   FormatYuan(MoneyOf(*c.open_tender, "amount")) + " for " +
                   r.object_type;
  } else if (c.decentralised && r.amount >= MoneyOf(*c.decentralised, "amount")) {
    c.method = "decentralised";
    c.rule = "decentralised_threshold";
    c.rule_text += amount + " >= decentralised threshold " +
                   FormatYuan(MoneyOf(*c.decentralised, "amount")) + " for " +
                   r.object_type +
                   (c.open_tender ? " and < open-tender threshold " +
                                        FormatYuan(MoneyOf(*c.open_tender, "amount"))
                                  : std::string(" (no open-tender threshold)"));
  } else {
    c.method = "below_limit";
    c.rule = "below_decentralised_threshold";
    c.rule_text += c.decentralised ? amount + " < decentralised threshold " +
                                         FormatYuan(MoneyOf(*c.decentralised, "amount")) +
                                         " for " + r.object_type
                                   : "no decentralised threshold for " + r.object_type;
  }
  return c;
}

Value::Record ThresholdDetails(const Classification& c, const std::string& type) {
  Value::Record d;
  d["object_type"] = Value::Str(type);
  auto put = [&](const char* key, const Value::Record* t) {
    d[key] = t ? *rec::Find(*t, "amount") : Value::Null();
    d[std::string(key) + "_confidence"] = Value::Str(t ? rec::Str(*t, "confidence") : "");
  };
  put("decentralised", c.decentralised);
  put("open_tender", c.open_tender);
  return d;
}

Result<CheckOutcome> ProcurementMethod(const CheckInput& in) {
  CheckOutcome out;
  std::optional<Request> r = ReadRequest(in, /*need_project=*/false, &out);
  if (!r) return out;
  const Date today = ShanghaiDateOf(in.now);
  auto cat = SelectCatalogue(*in.config, today);
  if (!cat) return std::unexpected(cat.error());
  Classification c = Classify(**cat, *r);

  out.details["method"] = Value::Str(c.method);
  out.details["rule"] = Value::Str(c.rule);
  out.details["rule_text"] = Value::Str(c.rule_text);
  out.details["open_tender_required"] = Value::Bool(c.open_tender_required);
  out.details["catalogue"] = Value::Of(CatalogueDetails(**cat));
  out.details["thresholds"] = Value::Of(ThresholdDetails(c, r->object_type));
  Value::Record item;
  item["code"] = Value::Str(r->item);
  item["centralised"] = Value::Bool(c.item != nullptr);
  if (c.item) {
    item["name"] = Value::Str(rec::Str(*c.item, "name"));
    item["scope"] = Value::Str(rec::Str(*c.item, "scope"));
    item["confidence"] = Value::Str(rec::Str(*c.item, "confidence"));
    item["code_confidence"] = Value::Str(rec::Str(**cat, "codes_confidence"));
  }
  out.details["item"] = Value::Of(std::move(item));
  out.details["amount"] = Value::Of(r->amount);
  out.details["object_type"] = Value::Str(r->object_type);
  out.details["budget_project"] = Value::Str(r->budget_project);
  out.details["fiscal_year"] = Value::Int(r->fiscal_year);

  const Value::Record& collective =
      rec::Sub(rec::Sub(*in.config, "procurement"), "collective_decision");
  const Value::List& methods = rec::List(collective, "methods");
  if (Contains(methods, c.method))
    out.reasons.push_back("collective_decision_required:" + c.method);
  else if (c.open_tender_required && Contains(methods, "open_tender"))
    out.reasons.push_back("collective_decision_required:open_tender");
  auto la = FindLargeAmount(*in.config, r->fund_source, today);
  if (la) {
    out.details["fund_source"] = Value::Str(la->fund_source);
    out.details["large_amount"] = Value::Of(LargeAmountDetails(*la));
    if (rec::Bool(collective, "large_amount") &&
        r->amount >= MoneyOf(*la->entry, "threshold"))
      out.reasons.push_back("collective_decision_required:large_amount");
  } else if (rec::Bool(collective, "large_amount")) {
    return std::unexpected(la.error());
  }
  out.details["collective_decision"] = Value::Bool(!out.reasons.empty());
  out.verdict = out.reasons.empty() ? CheckVerdict::kPass : CheckVerdict::kFlag;
  return out;
}

// One element of facts "purchases", checked.
struct Purchase {
  Value instance;
  std::string budget_project;
  std::string item;
  int64_t fiscal_year = 0;
  Money amount;
  std::string method;
  std::string supplier;
  Date date;
  bool exempt = false;
};

std::string InstanceText(const Value& v) {
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_string()) return v.as_string();
  return "?";
}

Result<std::vector<Purchase>> ReadPurchases(const CheckInput& in) {
  std::vector<Purchase> out;
  if (!in.facts) return out;
  const Value* list = rec::Find(in.facts->values, kFactPurchases);
  if (!list) return out;
  auto bad = [](size_t i, const std::string& what) {
    return MakeError(ErrorCode::kInternal, "bad_facts",
                     "facts purchases[" + std::to_string(i) + "]: " + what +
                         " — the service must gather records of the shape "
                         "core/checks.h documents");
  };
  if (!list->is_list()) return bad(0, "'purchases' is not a list");
  for (size_t i = 0; i < list->as_list().size(); ++i) {
    const Value& v = list->as_list()[i];
    if (!v.is_record()) return bad(i, "not a record");
    const Value::Record& r = v.as_record();
    Purchase p;
    const Value* inst = rec::Find(r, "instance");
    if (!inst || !(inst->is_int() || inst->is_string()))
      return bad(i, "'instance' is missing or not an int or text");
    p.instance = *inst;
    for (auto [key, to] :
         {std::pair<const char*, std::string*>{"budget_project", &p.budget_project},
          {"item", &p.item},
          {"method", &p.method}}) {
      const Value* s = rec::Find(r, key);
      if (!s || !s->is_string())
        return bad(i, std::string("'") + key + "' is missing or not text");
      *to = s->as_string();
    }
    const Value* year = rec::Find(r, "fiscal_year");
    if (!year || !year->is_int()) return bad(i, "'fiscal_year' is missing or not an int");
    p.fiscal_year = year->as_int();
    const Value* amount = rec::Find(r, "amount");
    if (!amount || !amount->is_money()) return bad(i, "'amount' is missing or not money");
    p.amount = amount->as_money();
    const Value* date = rec::Find(r, "date");
    if (!date || !std::holds_alternative<Date>(date->v))
      return bad(i, "'date' is missing or not a date");
    p.date = date->as_date();
    if (const Value* s = rec::Find(r, "supplier"); s && !s->is_null()) {
      if (!s->is_string()) return bad(i, "'supplier' is not text");
      p.supplier = s->as_string();
    }
    if (const Value* e = rec::Find(r, "exempt"); e && !e->is_null()) {
      if (!e->is_bool()) return bad(i, "'exempt' is not a bool");
      p.exempt = e->as_bool();
    }
    out.push_back(std::move(p));
  }
  return out;
}

bool SameCategory(const std::string& a, const std::string& b, int64_t prefix) {
  if (prefix <= 0) return a == b;
  size_t n = static_cast<size_t>(prefix);
  if (a.size() < n || b.size() < n) return a == b;
  return a.compare(0, n, b, 0, n) == 0;
}

std::string JoinInstances(const std::vector<const Purchase*>& ps) {
  std::string s;
  for (const Purchase* p : ps) {
    if (!s.empty()) s += ",";
    s += InstanceText(p->instance);
  }
  return s;
}

Value PurchaseList(const std::vector<const Purchase*>& ps) {
  Value::List l;
  for (const Purchase* p : ps) {
    Value::Record r;
    r["instance"] = p->instance;
    r["amount"] = Value::Of(p->amount);
    r["date"] = Value::Of(p->date);
    r["item"] = Value::Str(p->item);
    r["method"] = Value::Str(p->method);
    l.push_back(Value::Of(std::move(r)));
  }
  return Value::Of(std::move(l));
}

Result<CheckOutcome> SplitPurchase(const CheckInput& in) {
  CheckOutcome out;
  std::optional<Request> r = ReadRequest(in, /*need_project=*/true, &out);
  if (!r) return out;
  auto purchases = ReadPurchases(in);
  if (!purchases) return std::unexpected(purchases.error());
  const Date today = ShanghaiDateOf(in.now);
  auto cat = SelectCatalogue(*in.config, today);
  if (!cat) return std::unexpected(cat.error());
  const Value::Record& procurement = rec::Sub(*in.config, "procurement");
  const Value::Record& split = rec::Sub(procurement, "split_purchase");
  const int64_t prefix = rec::Int(split, "category_prefix");
  const Value::List& excluded = rec::List(split, "excluded_methods");
  Classification c = Classify(**cat, *r);

  Value::Record s;
  s["budget_project"] = Value::Str(r->budget_project);
  s["item"] = Value::Str(r->item);
  s["fiscal_year"] = Value::Int(r->fiscal_year);
  s["match"] = Value::Str(prefix > 0 ? "prefix:" + std::to_string(prefix) : "same_item");
  s["request_amount"] = Value::Of(r->amount);
  s["request_method"] = Value::Str(c.method);
  s["catalogue"] = Value::Of(CatalogueDetails(**cat));
  s["purchases_known"] = Value::Int(static_cast<int64_t>(purchases->size()));
  if (c.open_tender_required || Contains(excluded, c.method)) {
    s["result"] = Value::Str("request_is_open_tender");
  } else if (!c.open_tender) {
    s["result"] = Value::Str("no_open_tender_threshold:" + r->object_type);
  } else {
    const Money threshold = MoneyOf(*c.open_tender, "amount");
    std::vector<const Purchase*> matched;
    Money sum = r->amount;
    for (const Purchase& p : *purchases) {
      if (p.exempt || p.fiscal_year != r->fiscal_year ||
          p.budget_project != r->budget_project ||
          !SameCategory(p.item, r->item, prefix) || Contains(excluded, p.method))
        continue;
      matched.push_back(&p);
      sum = sum + p.amount;
    }
    s["threshold"] = Value::Of(threshold);
    s["threshold_confidence"] = Value::Str(rec::Str(*c.open_tender, "confidence"));
    s["cumulative"] = Value::Of(sum);
    s["matched"] = PurchaseList(matched);
    if (!matched.empty() && sum >= threshold) {
      s["result"] = Value::Str("split");
      out.reasons.push_back("split_purchase:" + JoinInstances(matched));
    } else {
      s["result"] = Value::Str("below_threshold");
    }
  }
  out.details["split"] = Value::Of(std::move(s));

  const Value::Record& repeat = rec::Sub(procurement, "supplier_repeat");
  if (!repeat.empty() && !r->supplier.empty()) {
    const int64_t limit = rec::Int(repeat, "count");
    const int64_t days = rec::Int(repeat, "days");
    std::vector<const Purchase*> same;
    for (const Purchase& p : *purchases) {
      if (p.supplier != r->supplier) continue;
      int64_t apart = std::abs(static_cast<int64_t>(today.days) - p.date.days);
      if (apart < days) same.push_back(&p);
    }
    Value::Record d;
    d["supplier"] = Value::Str(r->supplier);
    d["days"] = Value::Int(days);
    d["count_limit"] = Value::Int(limit);
    d["count"] = Value::Int(static_cast<int64_t>(same.size()) + 1);
    d["matched"] = PurchaseList(same);
    if (static_cast<int64_t>(same.size()) + 1 >= limit) {
      out.reasons.push_back("supplier_repeat:" + r->supplier + ":" + JoinInstances(same));
    }
    out.details["supplier_repeat"] = Value::Of(std::move(d));
  }
  out.verdict = out.reasons.empty() ? CheckVerdict::kPass : CheckVerdict::kFlag;
  return out;
}

// ---------------------------------------------------------------------------
// passed_decision and decision_register

// One element of facts "decisions", checked.
struct Decision {
  Value instance;
  std::string number;
  std::string result;
  std::string category;
  Value date;    // Date or null
  Value amount;  // Money or null
  std::string topic;
};

Result<std::vector<Decision>> ReadDecisions(const CheckInput& in) {
  std::vector<Decision> out;
  if (!in.facts) return out;
  const Value* list = rec::Find(in.facts->values, kFactDecisions);
  if (!list) return out;
  auto bad = [](size_t i, const std::string& what) {
    return MakeError(ErrorCode::kInternal, "bad_facts",
                     "facts decisions[" + std::to_string(i) + "]: " + what +
                         " — the service must gather records of the shape "
                         "core/checks.h documents");
  };
  if (!list->is_list()) return bad(0, "'decisions' is not a list");
  for (size_t i = 0; i < list->as_list().size(); ++i) {
    const Value& v = list->as_list()[i];
    if (!v.is_record()) return bad(i, "not a record");
    const Value::Record& r = v.as_record();
    Decision d;
    const Value* inst = rec::Find(r, "instance");
    if (!inst || !(inst->is_int() || inst->is_string()))
      return bad(i, "'instance' is missing or not an int or text");
    d.instance = *inst;
    for (auto [key, to] : {std::pair<const char*, std::string*>{"number", &d.number},
                           {"result", &d.result},
                           {"category", &d.category}}) {
      const Value* s = rec::Find(r, key);
      if (!s || !s->is_string())
        return bad(i, std::string("'") + key + "' is missing or not text");
      *to = s->as_string();
    }
    d.date = DateOrNull(r, "date");
    if (const Value* a = rec::Find(r, "amount"); a && !a->is_null()) {
      if (!a->is_money()) return bad(i, "'amount' is not money");
      d.amount = *a;
    }
    if (const Value* t = rec::Find(r, "topic"); t && t->is_string())
      d.topic = t->as_string();
    out.push_back(std::move(d));
  }
  return out;
}

Value::Record DecisionDetails(const Decision& d) {
  Value::Record r;
  r["instance"] = d.instance;
  r["number"] = Value::Str(d.number);
  r["result"] = Value::Str(d.result);
  r["category"] = Value::Str(d.category);
  r["date"] = d.date;
  r["amount"] = d.amount;
  r["topic"] = Value::Str(d.topic);
  return r;
}

// The text of form field `param` (default `def`), trimmed of surrounding
// blanks; empty when absent or not text.
std::string TrimmedText(const CheckInput& in, const std::string& param,
                        const std::string& def) {
  const Value* v = FormField(in, param, def);
  if (!v || !v->is_string()) return "";
  const std::string& s = v->as_string();
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Result<CheckOutcome> PassedDecision(const CheckInput& in) {
  CheckOutcome out;
  out.verdict = CheckVerdict::kFail;
  const std::string ref = TrimmedText(in, "ref_field", "decision_ref");
  out.details["ref"] = ref.empty() ? Value::Null() : Value::Str(ref);
  if (ref.empty()) {
    out.reasons.push_back("decision_ref_missing");
    return out;
  }
  auto decisions = ReadDecisions(in);
  if (!decisions) return std::unexpected(decisions.error());
  std::vector<const Decision*> named;
  for (const Decision& d : *decisions)
    if (d.number == ref) named.push_back(&d);
  if (named.empty()) {
    out.reasons.push_back("decision_unknown:" + ref);
    return out;
  }
  if (named.size() > 1) {
    Value::List all;
    for (const Decision* d : named) all.push_back(Value::Of(DecisionDetails(*d)));
    out.details["decisions"] = Value::Of(std::move(all));
    out.reasons.push_back("decision_ambiguous:" + ref);
    return out;
  }
  const Decision& d = *named.front();
  out.details["decision"] = Value::Of(DecisionDetails(d));
  if (d.result != "passed")
    out.reasons.push_back("decision_not_passed:" + ref + ":" + d.result);
  const Value* categories = nullptr;
  if (in.params) {
    auto it = in.params->find("categories");
    if (it != in.params->end()) categories = &it->second;
  }
  if (categories) {
    if (!categories->is_list())
      return MakeError(ErrorCode::kInternal, "bad_params",
                       "passed_decision: params.categories must list category names");
    out.details["categories"] = *categories;
    if (!Contains(categories->as_list(), d.category))
      out.reasons.push_back("decision_wrong_category:" + ref + ":" + d.category);
  }
  const Value* amount = FormField(in, "amount_field", "amount");
  if (amount && amount->is_money() && d.amount.is_money()) {
    out.details["amount"] = *amount;
    if (amount->as_money() > d.amount.as_money())
      out.reasons.push_back("decision_amount_exceeded:" + ref);
  }
  if (out.reasons.empty()) out.verdict = CheckVerdict::kPass;
  return out;
}

Result<CheckOutcome> DecisionRegister(const CheckInput& in) {
  CheckOutcome out;
  const std::string number = TrimmedText(in, "number_field", "decision_no");
  out.details["number"] = number.empty() ? Value::Null() : Value::Str(number);
  const Value* cat = FormField(in, "category_field", "category");
  out.details["category"] = cat && cat->is_string() ? *cat : Value::Null();
  const Value* amount = FormField(in, "amount_field", "amount");
  out.details["amount"] = amount && amount->is_money() ? *amount : Value::Null();
  const Value* topic = FormField(in, "topic_field", "topic");
  out.details["topic"] = topic && topic->is_string() ? *topic : Value::Null();
  if (number.empty()) {
    out.verdict = CheckVerdict::kFail;
    out.reasons.push_back("decision_no_missing");
    return out;
  }
  auto decisions = ReadDecisions(in);
  if (!decisions) return std::unexpected(decisions.error());
  for (const Decision& d : *decisions) {
    if (d.number != number) continue;
    out.verdict = CheckVerdict::kFail;
    out.reasons.push_back("decision_no_taken:" + number + ":" + InstanceText(d.instance));
    return out;
  }
  return out;
}

// ---------------------------------------------------------------------------
// required_by_category

// True if the form gives `name`: present, not null, not empty text or list.
bool Given(const FormData& form, const std::string& name) {
  auto it = form.find(name);
  if (it == form.end() || it->second.is_null()) return false;
  if (it->second.is_string()) return !it->second.as_string().empty();
  if (it->second.is_list()) return !it->second.as_list().empty();
  return true;
}

Result<CheckOutcome> RequiredByCategory(const CheckInput& in) {
  CheckOutcome out;
  const std::string field = Param(in, "category_field", "category");
  const Value* cat = FormField(in, "category_field", "category");
  if (!cat || !cat->is_string() || cat->as_string().empty()) {
    out.verdict = CheckVerdict::kFail;
    out.reasons.push_back("fields_missing:" + field);
    return out;
  }
  const std::string& category = cat->as_string();
  const Value* rules = nullptr;
  if (in.params) {
    auto it = in.params->find("required");
    if (it != in.params->end()) rules = &it->second;
  }
  if (!rules || !rules->is_record())
    return MakeError(ErrorCode::kInternal, "bad_params",
                     "required_by_category needs params.required: a mapping from "
                     "category to the list of fields it requires");
  Value::List checked;
  const Value* needed = rec::Find(rules->as_record(), category);
  if (needed) {
    // A single field name may be written without a list.
    Value::List names = needed->is_list() ? needed->as_list() : Value::List{*needed};
    for (const Value& n : names) {
      if (!n.is_string())
        return MakeError(ErrorCode::kInternal, "bad_params",
                         "required_by_category: params.required." + category +
                             " must list field names");
      checked.push_back(n);
      if (!in.form || !Given(*in.form, n.as_string()))
        out.reasons.push_back("required_missing:" + category + ":" + n.as_string());
    }
  }
  out.verdict = out.reasons.empty() ? CheckVerdict::kPass : CheckVerdict::kFail;
  out.details["category"] = Value::Str(category);
  out.details["required"] = Value::Of(std::move(checked));
  return out;
}

}  // namespace

const CheckRegistry& CheckRegistry::Builtin() {
  static const CheckRegistry* registry = [] {
    auto* r = new CheckRegistry();
    r->Register("decision_register", DecisionRegister);
    r->Register("duplicate_invoice", DuplicateInvoice);
    r->Register("expense_standard", ExpenseStandard);
    r->Register("large_amount", LargeAmountCheck);
    r->Register("passed_decision", PassedDecision);
    r->Register("procurement_method", ProcurementMethod);
    r->Register("required_by_category", RequiredByCategory);
    r->Register("split_purchase", SplitPurchase);
    return r;
  }();
  return *registry;
}

}  // namespace approvald
