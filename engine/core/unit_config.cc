#include "core/unit_config.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "core/yaml_support.h"

namespace approvald {

namespace {

using yaml_support::Entry;
using yaml_support::Map;
using yaml_support::Reader;

constexpr const char* kObjectTypes[] = {"goods", "services", "works"};
constexpr const char* kBudgetLevels[] = {"central", "provincial", "city", "county"};
// The methods procurement_method decides (core/checks.h).
constexpr const char* kDecidedMethods[] = {"centralised", "open_tender", "decentralised",
                                           "below_limit"};

template <size_t N>
std::vector<std::string> Names(const char* const (&names)[N]) {
  return std::vector<std::string>(names, names + N);
}

template <size_t N>
bool OneOf(const std::string& s, const char* const (&names)[N]) {
  for (const char* n : names) {
    if (s == n) return true;
  }
  return false;
}

// Names used as keys by the checks: categories, classes, fund sources,
// jurisdictions, catalogue ids, methods.
bool IsKey(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// Item codes of the 品目分类目录: a letter (A goods, B works, C services)
// followed by digits.
std::string ObjectTypeOfCode(std::string_view code) {
  if (code.size() < 2) return "";
  for (size_t i = 1; i < code.size(); ++i) {
    if (code[i] < '0' || code[i] > '9') return "";
  }
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

int YearOf(Date d) {
  int y;
  unsigned m, day;
  CivilFromDate(d, &y, &m, &day);
  return y;
}

Value StrList(const std::vector<std::string>& items) {
  Value::List l;
  for (const auto& s : items) l.push_back(Value::Str(s));
  return Value::Of(std::move(l));
}

// Typed reads on top of yaml_support::Reader for the value kinds these files
// use: money in yuan, dates, confidence tags and key-like names.
class Fields {
 public:
  explicit Fields(Reader* r) : r_(*r) {}

  Reader& r() { return r_; }

  // A scalar in yuan, more than zero.
  std::optional<Money> ReadMoney(const Map& m, std::string_view key,
                                 const std::string& what, bool required,
                                 std::string_view example) {
    std::optional<std::string> s = r_.String(m, key, what, required, example);
    if (!s) return std::nullopt;
    const Entry* e = m.Find(key);
    std::optional<Money> money = ParseYuan(*s);
    if (!money) {
      r_.Error(e->value, "'" + std::string(key) + "' in " + what +
                             " is not an amount in yuan: '" + *s +
                             "' — write digits with at most two decimals, "
                             "quoted, e.g. " +
                             std::string(example));
      return std::nullopt;
    }
    if (money->fen <= 0) {
      r_.Error(e->value, "'" + std::string(key) + "' in " + what +
                             " must be more than zero, got " + *s +
                             " — leave the entry out instead of writing 0");
      return std::nullopt;
    }
    return money;
  }

  std::optional<Date> ReadDate(const Map& m, std::string_view key,
                               const std::string& what, bool required,
                               std::string_view example) {
    std::optional<std::string> s = r_.String(m, key, what, required, example);
    if (!s) return std::nullopt;
    std::optional<Date> d = ParseDate(*s);
    if (!d) {
      r_.Error(m.Find(key)->value,
               "'" + std::string(key) + "' in " + what + " is not a date: '" + *s +
                   "' — write YYYY-MM-DD, e.g. " + std::string(example));
    }
    return d;
  }

  std::optional<Date> DateScalar(const YAML::Node& n, const std::string& what) {
    std::optional<std::string> s = r_.Scalar(n, what);
    if (!s) return std::nullopt;
    std::optional<Date> d = ParseDate(*s);
    if (!d) {
      r_.Error(n,
               what + " is not a date: '" + *s + "' — write YYYY-MM-DD, e.g. 2025-10-01");
    }
    return d;
  }

  // "V", "S" or "U".
  std::optional<std::string> ReadConfidence(const Map& m, const std::string& what,
                                            bool required = true,
                                            std::string_view key = "confidence") {
    std::optional<std::string> s =
        r_.String(m, key, what, required, std::string(key) + ": S");
    if (!s) return std::nullopt;
    if (*s != "V" && *s != "S" && *s != "U") {
      r_.Error(m.Find(key)->value,
               "'" + std::string(key) + "' in " + what + " is '" + *s +
                   "' — use V (read in the source), S (secondary source) or "
                   "U (unverified), as in ../shared/domain/RULES.md");
      return std::nullopt;
    }
    return s;
  }

  // A key-like name ([a-z][a-z0-9_-]*).
  std::optional<std::string> ReadKey(const Map& m, std::string_view key,
                                     const std::string& what, bool required,
                                     std::string_view example) {
    std::optional<std::string> s = r_.String(m, key, what, required, example);
    if (!s) return std::nullopt;
    if (!IsKey(*s)) {
      r_.Error(m.Find(key)->value,
               "'" + std::string(key) + "' in " + what + " is '" + *s +
                   "', not a name — use lower-case letters, digits, '_' and "
                   "'-', starting with a letter");
      return std::nullopt;
    }
    return s;
  }

  // A key checked against a fixed list.
  std::optional<std::string> ReadChoice(const Map& m, std::string_view key,
                                        const std::string& what, bool required,
                                        const std::vector<std::string>& allowed) {
    std::optional<std::string> s =
        r_.String(m, key, what, required, std::string(key) + ": " + allowed[0]);
    if (!s) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
      std::string suggestion = ClosestMatch(*s, allowed);
      r_.Error(m.Find(key)->value,
               "'" + std::string(key) + "' in " + what + " is '" + *s + "'" +
                   (suggestion.empty() ? " — use one of: " + JoinNames(allowed)
                                       : " — did you mean '" + suggestion +
                                             "'? (one of: " + JoinNames(allowed) + ")"));
      return std::nullopt;
    }
    return s;
  }

  // A list of key-like names, each optionally restricted to `allowed`.
  std::optional<std::vector<std::string>> ReadKeyList(
      const Map& m, std::string_view key, const std::string& what,
      const std::vector<std::string>& allowed = {}) {
    auto items = r_.StringList(m, key, what);
    if (!items) return std::nullopt;
    std::vector<std::string> out;
    std::set<std::string> seen;
    bool ok = true;
    for (const auto& [name, node] : *items) {
      if (!allowed.empty() &&
          std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        r_.Error(node, "'" + name + "' in '" + std::string(key) + "' of " + what +
                           " is not known — use one of: " + JoinNames(allowed));
        ok = false;
      } else if (allowed.empty() && !IsKey(name)) {
        r_.Error(node, "'" + name + "' in '" + std::string(key) + "' of " + what +
                           " is not a name — use lower-case letters, "
                           "digits, '_' and '-'");
        ok = false;
      } else if (!seen.insert(name).second) {
        r_.Error(node, "'" + name + "' is listed twice in '" + std::string(key) +
                           "' of " + what + " — remove one");
        ok = false;
      } else {
        out.push_back(name);
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

 private:
  Reader& r_;
};

// ---------------------------------------------------------------------------
// config/procurement-catalogue.yaml

struct CatalogueInfo {
  std::string jurisdiction;
  std::vector<std::string> levels;
};

class CatalogueLoader {
 public:
  CatalogueLoader(std::string_view text, std::string_view file)
      : r_(text, file), f_(&r_) {}

  CatalogueLoad Run() {
    CatalogueLoad out;
    std::optional<YAML::Node> root = r_.Parse();
    if (root) {
      try {
        LoadRoot(*root);
      } catch (const YAML::Exception& e) {
        r_.Error(
            SourceLoc{r_.file(), e.mark.line + 1, e.mark.column + 1},
            "cannot read the catalogue: " + e.msg + " — fix the YAML structure here");
      }
    }
    out.errors = r_.TakeErrors();
    if (out.errors.empty()) out.catalogues = std::move(list_);
    return out;
  }

  const std::vector<CatalogueInfo>& infos() const { return infos_; }

 private:
  void LoadRoot(const YAML::Node& root) {
    Map m = r_.OpenMap(root, "the catalogue file", {"catalogues"});
    if (!m.ok()) return;
    std::optional<YAML::Node> seq =
        r_.Sequence(m, "catalogues", "the catalogue file", true,
                    "catalogues: [ { id: central-2020, ... } ]");
    if (!seq) return;
    for (const YAML::Node& n : *seq) LoadCatalogue(n);
  }

  void LoadCatalogue(const YAML::Node& n) {
    std::string peek = yaml_support::PeekScalar(n, "id");
    std::string what = peek.empty() ? "a catalogue" : "catalogue '" + peek + "'";
    Map m =
        r_.OpenMap(n, what,
                   {"id", "version", "jurisdiction", "budget_levels", "effective_from",
                    "superseded_on", "document", "url", "confidence", "codes_confidence",
                    "decentralised", "open_tender", "centralised", "note"});
    if (!m.ok()) return;
    Value::Record c;
    bool ok = true;
    auto id = f_.ReadKey(m, "id", what, true, "id: central-2020");
    if (id) {
      auto [it, fresh] = ids_.emplace(*id, r_.Loc(m.Find("id")->value));
      if (!fresh) {
        r_.Error(m.Find("id")->value, "duplicate catalogue id '" + *id +
                                          "' (first at line " +
                                          std::to_string(it->second.line) +
                                          ") — ids must be unique; rename one");
        ok = false;
      }
      c["id"] = Value::Str(*id);
    } else {
      ok = false;
    }
    auto version = r_.String(m, "version", what, true, "version: \"2020\"");
    auto jurisdiction =
        f_.ReadKey(m, "jurisdiction", what, true, "jurisdiction: guangdong");
    std::optional<std::vector<std::string>> levels;
    if (m.Find("budget_levels") == nullptr || m.Find("budget_levels")->value.IsNull()) {
      r_.Missing(m, "budget_levels", what, "budget_levels: [city, county]");
    } else {
      levels = f_.ReadKeyList(m, "budget_levels", what, Names(kBudgetLevels));
      if (levels && levels->empty()) {
        r_.Error(m.Find("budget_levels")->value,
                 "'budget_levels' of " + what + " is empty — name at least one of: " +
                     JoinNames(Names(kBudgetLevels)));
        levels.reset();
      }
    }
    auto from =
        f_.ReadDate(m, "effective_from", what, true, "effective_from: 2020-01-01");
    auto until = f_.ReadDate(m, "superseded_on", what, false, "2025-01-01");
    if (from && until && *until <= *from) {
      r_.Error(m.Find("superseded_on")->value,
               "'superseded_on' of " + what + " (" + FormatDate(*until) +
                   ") is not after effective_from (" + FormatDate(*from) +
                   ") — it is the first day the catalogue no longer applies");
      ok = false;
    }
    auto document =
        r_.String(m, "document", what, true, "document: \"国办发〔2019〕55号\"");
    auto confidence = f_.ReadConfidence(m, what);
    auto codes_confidence = f_.ReadConfidence(m, what, false, "codes_confidence");
    ok = ok && version && jurisdiction && levels && from && document && confidence;

    Value::Record dec, open;
    ok = LoadThresholds(m, "decentralised", what, &dec) && ok;
    ok = LoadThresholds(m, "open_tender", what, &open) && ok;
    for (const char* type : kObjectTypes) {
      const Value* d = FindIn(dec, type);
      const Value* o = FindIn(open, type);
      if (d && o &&
          d->as_record().at("amount").as_money() >=
              o->as_record().at("amount").as_money()) {
        r_.Error(m.Find("decentralised")->value,
                 "the decentralised threshold for " + std::string(type) + " in " + what +
                     " (" + FormatYuan(d->as_record().at("amount").as_money()) +
                     ") is not below its open-tender threshold (" +
                     FormatYuan(o->as_record().at("amount").as_money()) +
                     ") — check the figures against the document");
        ok = false;
      }
    }
    Value::List items;
    ok = LoadItems(m, what, &items) && ok;
    if (!ok) return;

    for (const CatalogueKey& k : keys_) {
      if (k.jurisdiction != *jurisdiction || k.from != *from) continue;
      for (const std::string& level : *levels) {
        if (std::find(k.levels.begin(), k.levels.end(), level) != k.levels.end()) {
          r_.Error(m.Find("effective_from")->value,
                   what + " and catalogue '" + k.id + "' (line " +
                       std::to_string(k.loc.line) + ") both start on " +
                       FormatDate(*from) + " for " + *jurisdiction + " / " + level +
                       " — which one applies would be ambiguous; "
                       "give them different dates or budget levels");
          return;
        }
      }
    }
    keys_.push_back(CatalogueKey{*id, *jurisdiction, *levels, *from,
                                 r_.Loc(m.Find("effective_from")->value)});
    infos_.push_back(CatalogueInfo{*jurisdiction, *levels});

    c["version"] = Value::Str(*version);
    c["jurisdiction"] = Value::Str(*jurisdiction);
    c["budget_levels"] = StrList(*levels);
    c["effective_from"] = Value::Of(*from);
    if (until) c["superseded_on"] = Value::Of(*until);
    c["document"] = Value::Str(*document);
    c["url"] = Value::Str(r_.String(m, "url", what, false).value_or(""));
    c["confidence"] = Value::Str(*confidence);
    c["codes_confidence"] = Value::Str(codes_confidence.value_or(*confidence));
    c["note"] = Value::Str(r_.String(m, "note", what, false).value_or(""));
    c["decentralised"] = Value::Of(std::move(dec));
    c["open_tender"] = Value::Of(std::move(open));
    c["centralised"] = Value::Of(std::move(items));
    list_.push_back(Value::Of(std::move(c)));
  }

  static const Value* FindIn(const Value::Record& r, const std::string& key) {
    auto it = r.find(key);
    return it == r.end() ? nullptr : &it->second;
  }

  // decentralised: / open_tender: { goods|services|works: {amount, confidence,
  // source} }.
  bool LoadThresholds(const Map& m, std::string_view key, const std::string& what,
                      Value::Record* out) {
    const Entry* e = m.Find(key);
    if (e == nullptr || e->value.IsNull()) {
      r_.Missing(
          m, key, what,
          std::string(key) + ": { goods: { amount: \"2000000.00\", confidence: V } }");
      return false;
    }
    std::string twhat = "'" + std::string(key) + "' of " + what;
    Map t = r_.OpenMap(e->value, twhat, Names(kObjectTypes));
    if (!t.ok()) return false;
    bool ok = true;
    for (const Entry& te : t.entries()) {
      std::string vwhat = std::string(key) + " " + te.key + " of " + what;
      Map v = r_.OpenMap(te.value, vwhat, {"amount", "confidence", "source"});
      if (!v.ok()) {
        ok = false;
        continue;
      }
      auto amount = f_.ReadMoney(v, "amount", vwhat, true, "amount: \"2000000.00\"");
      auto confidence = f_.ReadConfidence(v, vwhat);
      if (!amount || !confidence) {
        ok = false;
        continue;
      }
      Value::Record th;
      th["amount"] = Value::Of(*amount);
      th["confidence"] = Value::Str(*confidence);
      th["source"] = Value::Str(r_.String(v, "source", vwhat, false).value_or(""));
      (*out)[te.key] = Value::Of(std::move(th));
    }
    return ok;
  }

  bool LoadItems(const Map& m, const std::string& what, Value::List* out) {
    const Entry* e = m.Find("centralised");
    if (e == nullptr || e->value.IsNull()) {
      r_.Missing(m, "centralised", what,
                 "centralised: [] (or the items of the catalogue)");
      return false;
    }
    std::optional<YAML::Node> seq =
        r_.Sequence(m, "centralised", what, true, "centralised: []");
    if (!seq) return false;
    bool ok = true;
    std::map<std::string, SourceLoc> codes;
    for (const YAML::Node& n : *seq) {
      std::string peek = yaml_support::PeekScalar(n, "code");
      std::string iwhat =
          "item " + (peek.empty() ? std::string("?") : peek) + " of " + what;
      Map im = r_.OpenMap(
          n, iwhat, {"code", "name", "object_type", "scope", "min_amount", "confidence"});
      if (!im.ok()) {
        ok = false;
        continue;
      }
      auto code = r_.String(im, "code", iwhat, true, "code: A02010104");
      auto name = r_.String(im, "name", iwhat, true, "name: 台式计算机");
      auto type = f_.ReadChoice(im, "object_type", iwhat, true, Names(kObjectTypes));
      auto min = f_.ReadMoney(im, "min_amount", iwhat, false, "min_amount: \"10000.00\"");
      auto confidence = f_.ReadConfidence(im, iwhat);
      bool item_ok = code && name && type && confidence && (min || !im.Has("min_amount"));
      if (code) {
        std::string code_type = ObjectTypeOfCode(*code);
        if (code_type.empty()) {
          r_.Error(im.Find("code")->value,
                   "item code '" + *code + "' in " + what +
                       " is not a 品目分类目录 code — write A (goods), B "
                       "(works) or C (services) followed by digits, e.g. "
                       "A02010104");
          item_ok = false;
        } else if (type && code_type != *type) {
          r_.Error(im.Find("object_type")->value,
                   "item " + *code + " of " + what + " is a " + code_type +
                       " code (its letter) but object_type says " + *type +
                       " — fix the code or the object type");
          item_ok = false;
        }
        auto [it, fresh] = codes.emplace(*code, r_.Loc(im.Find("code")->value));
        if (!fresh) {
          r_.Error(im.Find("code")->value,
                   "item " + *code + " is listed twice in " + what + " (first at line " +
                       std::to_string(it->second.line) + ") — merge the entries");
          item_ok = false;
        }
      }
      if (!item_ok) {
        ok = false;
        continue;
      }
      Value::Record item;
      item["code"] = Value::Str(*code);
      item["name"] = Value::Str(*name);
      item["object_type"] = Value::Str(*type);
      item["scope"] = Value::Str(r_.String(im, "scope", iwhat, false).value_or(""));
      item["confidence"] = Value::Str(*confidence);
      if (min) item["min_amount"] = Value::Of(*min);
      out->push_back(Value::Of(std::move(item)));
    }
    return ok;
  }

  struct CatalogueKey {
    std::string id;
    std::string jurisdiction;
    std::vector<std::string> levels;
    Date from;
    SourceLoc loc;
  };

  Reader r_;
  Fields f_;
  std::map<std::string, SourceLoc> ids_;
  std::vector<CatalogueKey> keys_;
  std::vector<CatalogueInfo> infos_;
  Value::List list_;
};

// ---------------------------------------------------------------------------
// config/unit.yaml

class UnitLoader {
 public:
  UnitLoader(std::string_view text, std::string_view file, const Org* org)
      : r_(text, file), f_(&r_), org_(org) {}

  // Loads the file; `catalogues` (may be null: no catalogue file) is used for
  // the jurisdiction cross-check.
  std::vector<LoadError> Run(const std::vector<CatalogueInfo>* catalogues) {
    std::optional<YAML::Node> root = r_.Parse();
    if (root) {
      try {
        LoadRoot(*root);
        if (catalogues != nullptr) CheckJurisdiction(*catalogues);
      } catch (const YAML::Exception& e) {
        r_.Error(SourceLoc{r_.file(), e.mark.line + 1, e.mark.column + 1},
                 "cannot read the unit configuration: " + e.msg +
                     " — fix the YAML structure here");
      }
    }
    return r_.TakeErrors();
  }

  Value::Record TakeConfig() { return std::move(config_); }

 private:
  void LoadRoot(const YAML::Node& root) {
    const std::string what = "the unit configuration";
    Map m =
        r_.OpenMap(root, what,
                   {"unit", "purchasing_department", "default_fund_source",
                    "large_amount", "expense_standards", "procurement", "self_check"});
    if (!m.ok()) return;
    LoadUnit(m);
    if (auto dept = f_.ReadKey(m, "purchasing_department", what, true,
                               "purchasing_department: office")) {
      CheckDept(m.Find("purchasing_department")->value, *dept, "purchasing_department",
                true);
      config_["purchasing_department"] = Value::Str(*dept);
    }
    auto default_source =
        f_.ReadKey(m, "default_fund_source", what, true, "default_fund_source: fiscal");
    LoadLargeAmount(m);
    if (default_source) {
      config_["default_fund_source"] = Value::Str(*default_source);
      if (fund_sources_.count(*default_source) == 0 && large_amount_ok_) {
        r_.Error(m.Find("default_fund_source")->value,
                 "default_fund_source '" + *default_source +
                     "' has no large_amount entry — add one with fund_source: " +
                     *default_source);
      }
    }
    if (const Entry* e = m.Find("expense_standards");
        e != nullptr && !e->value.IsNull()) {
      LoadStandards(e->value);
    }
    LoadProcurement(m);
    if (const Entry* e = m.Find("self_check"); e != nullptr && !e->value.IsNull()) {
      LoadSelfCheck(e->value);
    }
  }

  void LoadUnit(const Map& root) {
    const Entry* e = root.Find("unit");
    if (e == nullptr || e->value.IsNull()) {
      r_.Missing(root, "unit", "the unit configuration",
                 "unit: { name: ..., jurisdiction: guangdong, budget_level: city }");
      return;
    }
    Map m = r_.OpenMap(e->value, "unit", {"name", "jurisdiction", "budget_level"});
    if (!m.ok()) return;
    Value::Record u;
    if (auto name = r_.String(m, "name", "unit", true, "name: 梅州市园林绿化中心")) {
      u["name"] = Value::Str(*name);
    }
    if (auto j = f_.ReadKey(m, "jurisdiction", "unit", true, "jurisdiction: guangdong")) {
      u["jurisdiction"] = Value::Str(*j);
      jurisdiction_ = *j;
      jurisdiction_loc_ = r_.Loc(m.Find("jurisdiction")->value);
    }
    if (auto l = f_.ReadChoice(m, "budget_level", "unit", true, Names(kBudgetLevels))) {
      u["budget_level"] = Value::Str(*l);
      budget_level_ = *l;
    }
    config_["unit"] = Value::Of(std::move(u));
  }

  // `dept` must be a department of the organisation (when given); with
  // `purchasing`, the organisation's purchasing department if it marks one.
  void CheckDept(const YAML::Node& at, const std::string& dept, const std::string& key,
                 bool purchasing) {
    if (org_ == nullptr) return;
    if (org_->FindDept(DeptId(dept)) == nullptr) {
      std::vector<std::string> ids;
      for (const Department& d : org_->departments) ids.push_back(d.id.value);
      std::string suggestion = ClosestMatch(dept, ids);
      r_.Error(at, key + " '" + dept +
                       "' is not a department of the "
                       "organisation" +
                       (suggestion.empty() ? " — use one of: " + JoinNames(ids)
                                           : " — did you mean '" + suggestion + "'?"));
      return;
    }
    if (!purchasing) return;
    for (const Department& d : org_->departments) {
      if (d.purchasing && d.id.value != dept) {
        r_.Error(at, key + " '" + dept +
                         "' differs from the purchasing "
                         "department of the organisation ('" +
                         d.id.value +
                         "', purchasing: true in the org file) — make them the "
                         "same");
      }
    }
  }

  void LoadLargeAmount(const Map& root) {
    const std::string what = "the unit configuration";
    std::optional<YAML::Node> seq =
        r_.Sequence(root, "large_amount", what, true,
                    "large_amount: [ { fund_source: fiscal, from: 2020-01-01, threshold: "
                    "\"100000.00\", confidence: S, source: ... } ]");
    if (!seq) return;
    if (seq->size() == 0) {
      r_.Error(root.Find("large_amount")->value,
               "large_amount is empty — add at least the default fund "
               "source's threshold");
      return;
    }
    large_amount_ok_ = true;
    Value::List list;
    std::map<std::pair<std::string, int32_t>, SourceLoc> seen;
    int index = 0;
    for (const YAML::Node& n : *seq) {
      ++index;
      std::string ewhat = "large_amount entry " + std::to_string(index);
      Map m = r_.OpenMap(n, ewhat,
                         {"fund_source", "from", "threshold", "confidence", "source"});
      if (!m.ok()) {
        large_amount_ok_ = false;
        continue;
      }
      auto fund = f_.ReadKey(m, "fund_source", ewhat, true, "fund_source: fiscal");
      auto from = f_.ReadDate(m, "from", ewhat, true, "from: 2020-01-01");
      auto threshold =
          f_.ReadMoney(m, "threshold", ewhat, true, "threshold: \"100000.00\"");
      auto confidence = f_.ReadConfidence(m, ewhat);
      auto source =
          r_.String(m, "source", ewhat, true, "source: \"单位三重一大实施办法 第N条\"");
      if (fund) fund_sources_.insert(*fund);
      if (!(fund && from && threshold && confidence && source)) {
        large_amount_ok_ = false;
        continue;
      }
      auto [it, fresh] =
          seen.emplace(std::make_pair(*fund, from->days), r_.Loc(m.Find("from")->value));
      if (!fresh) {
        r_.Error(m.Find("from")->value,
                 "a second large_amount entry for " + *fund + " from " +
                     FormatDate(*from) + " (first at line " +
                     std::to_string(it->second.line) +
                     ") — which one applies would be ambiguous; remove one");
        continue;
      }
      Value::Record r;
      r["fund_source"] = Value::Str(*fund);
      r["from"] = Value::Of(*from);
      r["threshold"] = Value::Of(*threshold);
      r["confidence"] = Value::Str(*confidence);
      r["source"] = Value::Str(*source);
      list.push_back(Value::Of(std::move(r)));
    }
    config_["large_amount"] = Value::Of(std::move(list));
  }

  void LoadStandards(const YAML::Node& node) {
    std::vector<std::string> keys;  // categories are free names
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (kv.first.IsScalar()) keys.push_back(kv.first.Scalar());
      }
    }
    Map m = r_.OpenMap(node, "expense_standards", keys);
    if (!m.ok()) return;
    Value::Record out;
    for (const Entry& e : m.entries()) {
      if (!IsKey(e.key)) {
        r_.Error(e.key_node, "category '" + e.key +
                                 "' in expense_standards is "
                                 "not a name — use the category option of the "
                                 "workflow's form, e.g. meeting");
        continue;
      }
      std::string cwhat = "expense standard '" + e.key + "'";
      if (!e.value.IsSequence()) {
        r_.Error(e.value, cwhat +
                              " must be a list of entries by date — "
                              "write - { from: 2016-07-01, limit: \"500.00\", "
                              "confidence: S, source: ... }");
        continue;
      }
      Value::List entries;
      std::map<int32_t, SourceLoc> froms;
      int index = 0;
      for (const YAML::Node& n : e.value) {
        ++index;
        std::string ewhat = cwhat + " entry " + std::to_string(index);
        auto entry = LoadStandardEntry(n, ewhat);
        if (!entry) continue;
        Date from = entry->at("from").as_date();
        auto [it, fresh] = froms.emplace(from.days, entry_from_loc_);
        if (!fresh) {
          r_.Error(entry_from_loc_,
                   "a second entry of " + cwhat + " from " + FormatDate(from) +
                       " (first at line " + std::to_string(it->second.line) +
                       ") — which one applies would be ambiguous; remove one");
          continue;
        }
        entries.push_back(Value::Of(std::move(*entry)));
      }
      out[e.key] = Value::Of(std::move(entries));
    }
    config_["expense_standards"] = Value::Of(std::move(out));
  }

  std::optional<Value::Record> LoadStandardEntry(const YAML::Node& n,
                                                 const std::string& what) {
    Map m = r_.OpenMap(
        n, what,
        {"from", "limit", "per_person", "per_person_day", "per_person_day_by_class",
         "companions", "confidence", "source", "note"});
    if (!m.ok()) return std::nullopt;
    Value::Record r;
    bool ok = true;
    auto from = f_.ReadDate(m, "from", what, true, "from: 2016-07-01");
    if (from) {
      r["from"] = Value::Of(*from);
      entry_from_loc_ = r_.Loc(m.Find("from")->value);
    }
    auto confidence = f_.ReadConfidence(m, what);
    auto source =
        r_.String(m, "source", what, true, "source: \"会议费管理办法 第十五条\"");
    ok = from && confidence && source;
    int measures = 0;
    for (const char* key : {"limit", "per_person", "per_person_day"}) {
      if (!m.Has(key)) continue;
      ++measures;
      auto money = f_.ReadMoney(m, key, what, true, "\"500.00\"");
      if (money) {
        r[key] = Value::Of(*money);
      } else {
        ok = false;
      }
    }
    if (const Entry* e = m.Find("per_person_day_by_class");
        e != nullptr && !e->value.IsNull()) {
      ++measures;
      std::vector<std::string> classes;
      if (e->value.IsMap()) {
        for (const auto& kv : e->value) {
          if (kv.first.IsScalar()) classes.push_back(kv.first.Scalar());
        }
      }
      std::string bwhat = "per_person_day_by_class of " + what;
      Map bm = r_.OpenMap(e->value, bwhat, classes);
      Value::Record by_class;
      if (!bm.ok() || bm.entries().empty()) {
        if (bm.ok()) {
          r_.Error(e->value, bwhat +
                                 " is empty — give each class its amount, "
                                 "e.g. { class1: \"760.00\" }");
        }
        ok = false;
      }
      for (const Entry& ce : bm.entries()) {
        if (!IsKey(ce.key)) {
          r_.Error(ce.key_node, "class '" + ce.key + "' in " + bwhat +
                                    " is not a name — use the options of the "
                                    "form's class field, e.g. class1");
          ok = false;
          continue;
        }
        auto money = f_.ReadMoney(bm, ce.key, bwhat, true, "\"760.00\"");
        if (!money) {
          ok = false;
          continue;
        }
        by_class[ce.key] = Value::Of(*money);
      }
      r["per_person_day_by_class"] = Value::Of(std::move(by_class));
    }
    if (const Entry* e = m.Find("companions"); e != nullptr && !e->value.IsNull()) {
      ++measures;
      auto companions = LoadCompanions(e->value, "companions of " + what);
      if (companions) {
        r["companions"] = Value::Of(std::move(*companions));
      } else {
        ok = false;
      }
    }
    if (measures == 0) {
      r_.Error(m.node(), what +
                             " sets no standard — add one of limit, "
                             "per_person, per_person_day, per_person_day_by_class "
                             "or companions");
      ok = false;
    }
    if (!ok) return std::nullopt;
    r["confidence"] = Value::Str(*confidence);
    r["source"] = Value::Str(*source);
    if (auto note = r_.String(m, "note", what, false)) {
      r["note"] = Value::Str(*note);
    }
    return r;
  }

  // { small_group: int, max_small: int, ratio: "N/M" }.
  std::optional<Value::Record> LoadCompanions(const YAML::Node& node,
                                              const std::string& what) {
    Map m = r_.OpenMap(node, what, {"small_group", "max_small", "ratio"});
    if (!m.ok()) return std::nullopt;
    auto small = r_.Int(m, "small_group", what, 0, 100000);
    auto max_small = r_.Int(m, "max_small", what, 0, 100000);
    if (!m.Has("small_group")) r_.Missing(m, "small_group", what, "small_group: 10");
    if (!m.Has("max_small")) r_.Missing(m, "max_small", what, "max_small: 3");
    auto ratio = r_.String(m, "ratio", what, true, "ratio: \"1/3\"");
    std::optional<std::pair<int64_t, int64_t>> parsed;
    if (ratio) {
      size_t slash = ratio->find('/');
      int64_t num = 0, den = 0;
      bool good = slash != std::string::npos;
      if (good) {
        std::string a = ratio->substr(0, slash), b = ratio->substr(slash + 1);
        auto digits = [](const std::string& s) {
          return !s.empty() && s.size() <= 6 &&
                 std::all_of(s.begin(), s.end(),
                             [](char c) { return c >= '0' && c <= '9'; });
        };
        good = digits(a) && digits(b);
        if (good) {
          num = std::stoll(a);
          den = std::stoll(b);
          good = num >= 1 && den >= 1 && num <= den;
        }
      }
      if (good) {
        parsed = std::make_pair(num, den);
      } else {
        r_.Error(m.Find("ratio")->value,
                 "'ratio' in " + what + " is '" + *ratio +
                     "' — write a fraction N/M with 1 <= N <= M, e.g. \"1/3\"");
      }
    }
    if (!small || !max_small || !parsed) return std::nullopt;
    Value::Record r;
    r["small_group"] = Value::Int(*small);
    r["max_small"] = Value::Int(*max_small);
    r["ratio_num"] = Value::Int(parsed->first);
    r["ratio_den"] = Value::Int(parsed->second);
    return r;
  }

  void LoadProcurement(const Map& root) {
    // Defaults (documented in config/README.md) for the settings that are not
    // amounts; the amounts all come from the files.
    Value::Record collective, split, out;
    collective["methods"] = StrList({"open_tender"});
    collective["large_amount"] = Value::Bool(true);
    split["category_prefix"] = Value::Int(0);
    split["excluded_methods"] = StrList({"open_tender"});
    const Entry* e = root.Find("procurement");
    if (e != nullptr && !e->value.IsNull()) {
      Map m = r_.OpenMap(e->value, "procurement",
                         {"collective_decision", "split_purchase", "supplier_repeat"});
      if (m.ok()) {
        if (const Entry* c = m.Find("collective_decision");
            c != nullptr && !c->value.IsNull()) {
          const std::string what = "procurement.collective_decision";
          Map cm = r_.OpenMap(c->value, what, {"methods", "large_amount"});
          if (cm.ok()) {
            if (auto methods =
                    f_.ReadKeyList(cm, "methods", what, Names(kDecidedMethods))) {
              collective["methods"] = StrList(*methods);
            }
            if (auto large = r_.Bool(cm, "large_amount", what)) {
              collective["large_amount"] = Value::Bool(*large);
            }
          }
        }
        if (const Entry* s = m.Find("split_purchase");
            s != nullptr && !s->value.IsNull()) {
          const std::string what = "procurement.split_purchase";
          Map sm = r_.OpenMap(s->value, what, {"category_prefix", "excluded_methods"});
          if (sm.ok()) {
            if (auto prefix = r_.Int(sm, "category_prefix", what, 0, 20)) {
              split["category_prefix"] = Value::Int(*prefix);
            }
            if (auto methods = f_.ReadKeyList(sm, "excluded_methods", what)) {
              split["excluded_methods"] = StrList(*methods);
            }
          }
        }
        if (const Entry* s = m.Find("supplier_repeat");
            s != nullptr && !s->value.IsNull()) {
          const std::string what = "procurement.supplier_repeat";
          Map sm = r_.OpenMap(s->value, what, {"count", "days"});
          if (sm.ok()) {
            auto count = r_.Int(sm, "count", what, 2, 1000);
            auto days = r_.Int(sm, "days", what, 1, 366);
            if (!sm.Has("count")) r_.Missing(sm, "count", what, "count: 3");
            if (!sm.Has("days")) r_.Missing(sm, "days", what, "days: 30");
            if (count && days) {
              Value::Record rep;
              rep["count"] = Value::Int(*count);
              rep["days"] = Value::Int(*days);
              out["supplier_repeat"] = Value::Of(std::move(rep));
            }
          }
        }
      }
    }
    out["collective_decision"] = Value::Of(std::move(collective));
    out["split_purchase"] = Value::Of(std::move(split));
    config_["procurement"] = Value::Of(std::move(out));
  }

  void LoadSelfCheck(const YAML::Node& node) {
    const std::string what = "self_check";
    Map m = r_.OpenMap(node, what, {"sample_size", "workflows", "reviewer_department"});
    if (!m.ok()) return;
    auto size = r_.Int(m, "sample_size", what, 1, 10000);
    if (!m.Has("sample_size")) r_.Missing(m, "sample_size", what, "sample_size: 10");
    std::optional<std::vector<std::string>> workflows;
    if (!m.Has("workflows")) {
      r_.Missing(m, "workflows", what, "workflows: [expense]");
    } else {
      workflows = f_.ReadKeyList(m, "workflows", what);
    }
    auto reviewer =
        f_.ReadKey(m, "reviewer_department", what, true, "reviewer_department: finance");
    if (reviewer) {
      CheckDept(m.Find("reviewer_department")->value, *reviewer, "reviewer_department",
                false);
    }
    if (!size || !workflows || !reviewer) return;
    Value::Record r;
    r["sample_size"] = Value::Int(*size);
    r["workflows"] = StrList(*workflows);
    r["reviewer_department"] = Value::Str(*reviewer);
    config_["self_check"] = Value::Of(std::move(r));
  }

  void CheckJurisdiction(const std::vector<CatalogueInfo>& catalogues) {
    if (jurisdiction_.empty() || budget_level_.empty()) return;
    bool any_jurisdiction = false;
    for (const CatalogueInfo& c : catalogues) {
      if (c.jurisdiction != jurisdiction_) continue;
      any_jurisdiction = true;
      if (std::find(c.levels.begin(), c.levels.end(), budget_level_) != c.levels.end()) {
        return;
      }
    }
    std::set<std::string> known;
    for (const CatalogueInfo& c : catalogues) known.insert(c.jurisdiction);
    r_.Error(
        jurisdiction_loc_,
        any_jurisdiction
            ? "no procurement catalogue for jurisdiction '" + jurisdiction_ +
                  "' covers budget level '" + budget_level_ +
                  "' — add the level to a catalogue's "
                  "budget_levels or add a catalogue"
            : "no procurement catalogue for jurisdiction '" + jurisdiction_ +
                  "' — add one to the catalogue file " +
                  (known.empty() ? std::string("(it has none)")
                                 : "or use one of: " + JoinNames(std::vector<std::string>(
                                                           known.begin(), known.end()))));
  }

  Reader r_;
  Fields f_;
  const Org* org_;
  Value::Record config_;
  std::string jurisdiction_, budget_level_;
  SourceLoc jurisdiction_loc_;
  std::set<std::string> fund_sources_;
  bool large_amount_ok_ = false;
  SourceLoc entry_from_loc_;
};

// ---------------------------------------------------------------------------
// config/holidays.yaml

class HolidayLoader {
 public:
  HolidayLoader(std::string_view text, std::string_view file) : r_(text, file), f_(&r_) {}

  CalendarLoad Run() {
    CalendarLoad out;
    std::optional<YAML::Node> root = r_.Parse();
    if (root) {
      try {
        LoadRoot(*root);
      } catch (const YAML::Exception& e) {
        r_.Error(SourceLoc{r_.file(), e.mark.line + 1, e.mark.column + 1},
                 "cannot read the holiday calendar: " + e.msg +
                     " — fix the YAML structure here");
      }
    }
    out.errors = r_.TakeErrors();
    if (out.errors.empty()) {
      out.calendar = Calendar(std::move(holidays_), std::move(workdays_));
      out.years.assign(years_.begin(), years_.end());
    }
    return out;
  }

 private:
  void LoadRoot(const YAML::Node& root) {
    Map m = r_.OpenMap(root, "the holiday calendar", {"years"});
    if (!m.ok()) return;
    std::optional<YAML::Node> seq =
        r_.Sequence(m, "years", "the holiday calendar", true,
                    "years: [ { year: 2025, source: ..., confidence: S, "
                    "holidays: [...], workdays: [...] } ]");
    if (!seq) return;
    for (const YAML::Node& n : *seq) LoadYear(n);
  }

  void LoadYear(const YAML::Node& n) {
    std::string peek = yaml_support::PeekScalar(n, "year");
    std::string what = peek.empty() ? "a year" : "year " + peek;
    Map m = r_.OpenMap(n, what, {"year", "source", "confidence", "holidays", "workdays"});
    if (!m.ok()) return;
    if (!m.Has("year")) r_.Missing(m, "year", what, "year: 2025");
    auto year = r_.Int(m, "year", what, 1900, 2999);
    r_.String(m, "source", what, true,
              "source: \"国务院办公厅关于2025年部分节假日安排的通知\"");
    f_.ReadConfidence(m, what);
    if (!year) return;
    if (!years_.insert(static_cast<int>(*year)).second) {
      r_.Error(m.Find("year")->value,
               "year " + std::to_string(*year) + " is listed twice — merge the entries");
      return;
    }
    // Holiday periods of this year, for the overlap and workday checks.
    std::vector<std::pair<Date, Date>> periods;
    if (auto seq = r_.Sequence(m, "holidays", what, false)) {
      for (const YAML::Node& h : *seq) {
        std::string hname = yaml_support::PeekScalar(h, "name");
        std::string hwhat = "holiday " + (hname.empty() ? "?" : hname) + " of " + what;
        Map hm = r_.OpenMap(h, hwhat, {"name", "from", "to"});
        if (!hm.ok()) continue;
        r_.String(hm, "name", hwhat, true, "name: 国庆节");
        auto from = f_.ReadDate(hm, "from", hwhat, true, "from: 2025-10-01");
        auto to = f_.ReadDate(hm, "to", hwhat, true, "to: 2025-10-08");
        if (!from || !to) continue;
        if (!InYear(hm.Find("from")->value, *from, *year, hwhat) ||
            !InYear(hm.Find("to")->value, *to, *year, hwhat)) {
          continue;
        }
        if (*to < *from) {
          r_.Error(hm.Find("to")->value, "'to' of " + hwhat + " (" + FormatDate(*to) +
                                             ") is before 'from' (" + FormatDate(*from) +
                                             ") — swap them");
          continue;
        }
        if (to->days - from->days >= 15) {
          r_.Error(hm.Find("to")->value,
                   hwhat + " lasts " + std::to_string(to->days - from->days + 1) +
                       " days — a holiday period is at most 15 days; check "
                       "the dates");
          continue;
        }
        bool overlap = false;
        for (const auto& [a, b] : periods) {
          if (!(*to < a || b < *from)) overlap = true;
        }
        if (overlap) {
          r_.Error(hm.Find("from")->value, hwhat + " overlaps another holiday of " +
                                               what + " — merge them into one period");
          continue;
        }
        periods.emplace_back(*from, *to);
        for (int32_t d = from->days; d <= to->days; ++d) holidays_.insert(d);
      }
    }
    if (const Entry* e = m.Find("workdays"); e != nullptr && !e->value.IsNull()) {
      if (!e->value.IsSequence()) {
        r_.Error(e->value, "'workdays' of " + what +
                               " must be a list of dates — write "
                               "[2025-01-26, 2025-02-08]");
        return;
      }
      std::set<int32_t> seen;
      for (const YAML::Node& w : e->value) {
        auto d = f_.DateScalar(w, "a workday of " + what);
        if (!d) continue;
        if (!InYear(w, *d, *year, "workdays of " + what)) continue;
        if (Weekday(*d) < 5) {
          r_.Error(w, FormatDate(*d) + " in the workdays of " + what +
                          " is a weekday — list only the Saturdays and "
                          "Sundays that are worked (调休)");
          continue;
        }
        if (!seen.insert(d->days).second) {
          r_.Error(w, FormatDate(*d) + " is listed twice in the workdays of " + what +
                          " — remove one");
          continue;
        }
        bool inside = false;
        for (const auto& [a, b] : periods) {
          if (!(*d < a || b < *d)) inside = true;
        }
        if (inside) {
          r_.Error(w, FormatDate(*d) + " in the workdays of " + what +
                          " falls inside a holiday — a day cannot be both");
          continue;
        }
        workdays_.insert(d->days);
      }
    }
  }

  bool InYear(const YAML::Node& at, Date d, int64_t year, const std::string& what) {
    if (YearOf(d) == year) return true;
    r_.Error(at, FormatDate(d) + " in " + what + " is not in " + std::to_string(year) +
                     " — list each day under the year it falls in");
    return false;
  }

  Reader r_;
  Fields f_;
  std::set<int> years_;
  std::set<int32_t> holidays_;
  std::set<int32_t> workdays_;
};

}  // namespace

CatalogueLoad LoadProcurementCatalogues(std::string_view yaml, std::string_view file) {
  return CatalogueLoader(yaml, file).Run();
}

UnitConfigLoad LoadUnitConfig(std::string_view unit_yaml, std::string_view unit_file,
                              std::string_view catalogue_yaml,
                              std::string_view catalogue_file, const Org* org) {
  UnitConfigLoad out;
  const bool has_catalogue =
      catalogue_yaml.find_first_not_of(" \t\r\n") != std::string_view::npos;
  CatalogueLoader catalogue(catalogue_yaml, catalogue_file);
  CatalogueLoad cat;
  if (has_catalogue) cat = catalogue.Run();
  UnitLoader unit(unit_yaml, unit_file, org);
  // Cross-check only against a catalogue file that loaded: its own errors say
  // what is wrong with it.
  const bool catalogue_ok = has_catalogue && cat.errors.empty();
  out.errors = unit.Run(catalogue_ok ? &catalogue.infos() : nullptr);
  out.errors.insert(out.errors.end(), cat.errors.begin(), cat.errors.end());
  if (!out.errors.empty()) return out;
  Value::Record config = unit.TakeConfig();
  if (catalogue_ok)
    config["procurement_catalogues"] = Value::Of(std::move(*cat.catalogues));
  out.config = std::move(config);
  return out;
}

CalendarLoad LoadHolidayCalendar(std::string_view yaml, std::string_view file) {
  return HolidayLoader(yaml, file).Run();
}

}  // namespace approvald
