// The workflow loader: YAML text -> WorkflowDef, collecting every error.
//
// It works in three passes: (1) read the top level, the form and each node on
// its own, reporting shape problems where they are; (2) resolve references
// between nodes, place nodes in parallel branches and fill defaults; (3)
// analyse the graph: reachability from start, a way out to an end node from
// every node, 退回 targets that really lie earlier.
#include "core/workflow_loader.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "core/expr.h"
#include "core/yaml_support.h"

namespace approvald {

std::string_view NodeKindName(NodeKind k) {
  switch (k) {
    case NodeKind::kApproval:
      return "approval";
    case NodeKind::kTask:
      return "task";
    case NodeKind::kParallel:
      return "parallel";
    case NodeKind::kChoice:
      return "choice";
    case NodeKind::kCheck:
      return "check";
    case NodeKind::kMeeting:
      return "meeting";
    case NodeKind::kEnd:
      return "end";
  }
  return "approval";
}

std::string_view ApprovalModeName(ApprovalMode m) {
  switch (m) {
    case ApprovalMode::kSingle:
      return "single";
    case ApprovalMode::kAll:
      return "all";
    case ApprovalMode::kAny:
      return "any";
    case ApprovalMode::kSequence:
      return "sequence";
    case ApprovalMode::kVote:
      return "vote";
  }
  return "single";
}

std::string_view JoinModeName(JoinMode j) { return j == JoinMode::kAll ? "all" : "any"; }

std::string_view DeadlineActionName(DeadlineAction a) {
  switch (a) {
    case DeadlineAction::kRemind:
      return "remind";
    case DeadlineAction::kEscalate:
      return "escalate";
    case DeadlineAction::kAutoApprove:
      return "approve";
    case DeadlineAction::kAutoReject:
      return "reject";
    case DeadlineAction::kTransfer:
      return "transfer";
  }
  return "remind";
}

std::string FormatRatio(const Ratio& r) {
  return std::string(r.strict ? "> " : ">= ") + std::to_string(r.num) + "/" +
         std::to_string(r.den);
}

std::string FormatDuration(int64_t after_ms, int working_days) {
  if (working_days > 0) {
    return std::to_string(working_days) +
           (working_days == 1 ? " working day" : " working days");
  }
  // Whole days from three days on; hours below (48h reads better than 2d).
  if (after_ms >= 3 * kMsPerDay && after_ms % kMsPerDay == 0) {
    return std::to_string(after_ms / kMsPerDay) + "d";
  }
  if (after_ms > 0 && after_ms % kMsPerHour == 0) {
    return std::to_string(after_ms / kMsPerHour) + "h";
  }
  return std::to_string(after_ms / 60000) + "m";
}

std::optional<Duration> ParseDuration(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > 6) return std::nullopt;
  int64_t n = 0;
  std::from_chars(text.data(), text.data() + digits, n);
  std::string_view unit = trim(text.substr(digits));
  Duration d;
  if (unit == "m") {
    d.after_ms = n * 60000;
  } else if (unit == "h") {
    d.after_ms = n * kMsPerHour;
  } else if (unit == "d") {
    d.after_ms = n * kMsPerDay;
  } else if (unit == "working days" || unit == "working day") {
    if (n < 1 || n > 250) return std::nullopt;
    d.working_days = static_cast<int>(n);
    return d;
  } else {
    return std::nullopt;
  }
  if (d.after_ms <= 0 || d.after_ms > 366 * kMsPerDay) return std::nullopt;
  return d;
}

std::optional<Ratio> ParseRatio(std::string_view text, bool strict) {
  auto skip = [&](size_t i) {
    while (i < text.size() && text[i] == ' ') ++i;
    return i;
  };
  size_t i = skip(0);
  int64_t num = 0, den = 0;
  auto [p1, e1] = std::from_chars(text.data() + i, text.data() + text.size(), num);
  if (e1 != std::errc()) return std::nullopt;
  i = skip(static_cast<size_t>(p1 - text.data()));
  if (i >= text.size() || text[i] != '/') return std::nullopt;
  i = skip(i + 1);
  auto [p2, e2] = std::from_chars(text.data() + i, text.data() + text.size(), den);
  if (e2 != std::errc()) return std::nullopt;
  i = skip(static_cast<size_t>(p2 - text.data()));
  if (i != text.size()) return std::nullopt;
  if (num < 1 || den < 1 || num > den || den > 1000) return std::nullopt;
  return Ratio{num, den, strict};
}

namespace {

using yaml_support::Entry;
using yaml_support::IsPlain;
using yaml_support::Map;
using yaml_support::Reader;

const std::vector<std::string> kTopKeys = {"id",   "title", "title_en", "submitters",
                                           "form", "start", "nodes"};

const std::vector<std::string> kKindNames = {"approval", "task",    "parallel", "choice",
                                             "check",    "meeting", "end"};
const std::vector<std::string> kModeNames = {"single", "all", "any", "sequence", "vote"};
const std::vector<std::string> kJoinNames = {"all", "any"};
const std::vector<std::string> kActionNames = {"remind", "escalate", "approve", "reject",
                                               "transfer"};
const std::vector<std::string> kOutcomeNames = {"approved", "rejected", "withdrawn",
                                                "cancelled"};
const std::vector<std::string> kTypeNames = {"bool",     "int",        "money", "date",
                                             "datetime", "text",       "enum",  "person",
                                             "dept",     "attachment", "list",  "record"};

const std::vector<std::string> kFieldKeys = {
    "name",     "type",       "label",     "label_en",      "help",
    "required", "max_length", "options",   "option_labels", "option_labels_en",
    "min",      "max",        "min_items", "max_items",     "element",
    "fields"};
const std::vector<std::string> kElementKeys = {
    "type",    "max_length", "options", "option_labels", "option_labels_en",
    "element", "fields"};

// The keys each node kind accepts, beyond id, kind, title and title_en.
const std::map<std::string, std::vector<std::string>>& KindKeys() {
  static const auto* keys = new std::map<std::string, std::vector<std::string>>{
      {"approval",
       {"assignees", "mode", "pass", "veto", "distinct_from", "comment_required",
        "return_to", "allow_transfer", "allow_delegate", "allow_add_signer",
        "allow_repeat_actor", "next", "on_reject", "deadline"}},
      {"task",
       {"assignees", "task_fields", "distinct_from", "comment_required", "return_to",
        "allow_transfer", "allow_delegate", "allow_repeat_actor", "next", "deadline"}},
      {"parallel", {"branches", "join", "next", "on_reject"}},
      {"choice", {"when"}},
      {"check", {"check", "params", "on_pass", "on_fail", "on_flag"}},
      {"meeting",
       {"members", "head", "secretary", "quorum", "pass", "deliberation", "read_receipts",
        "recused_count_for_quorum", "on_pass", "on_fail", "on_defer", "deadline"}},
      {"end", {"outcome"}},
  };
  return *keys;
}

std::vector<std::string> AllowedKeys(const std::string& kind) {
  std::vector<std::string> out = {"id", "kind", "title", "title_en"};
  auto it = KindKeys().find(kind);
  if (it != KindKeys().end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
  } else {  // unknown kind: accept every node key, the kind is reported
    std::set<std::string> all;
    for (const auto& [k, keys] : KindKeys()) all.insert(keys.begin(), keys.end());
    out.insert(out.end(), all.begin(), all.end());
  }
  return out;
}

// "1 label", "3 labels".
std::string Count(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

bool IsName(std::string_view s, bool allow_dash) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              (allow_dash && c == '-');
    if (!ok) return false;
  }
  return true;
}

template <class T>
int IndexOf(const std::vector<std::string>& names, const T& name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// A reference from one node to another, resolved in pass 2.
struct Ref {
  std::string key;  // "next", "on_reject", "to", "else", "return_to", ...
  std::string target;
  SourceLoc loc;
  int branch = -1;  // "branches": which branch and position
  int step = -1;
};

// What the loader remembers about a node beyond its NodeDef.
struct NodeInfo {
  SourceLoc loc;
  bool broken = false;    // had an error: assumed fine by graph checks
  bool implicit = false;  // an end node the loader added
  std::vector<Ref> refs;
  std::map<std::string, SourceLoc> keys;  // keys written, with positions
  std::vector<std::string> suggested;     // keys offered for misspelt ones
  std::vector<std::pair<std::string, SourceLoc>> task_fields;
  std::vector<std::pair<std::string, SourceLoc>> param_fields;
  SourceLoc when_loc;  // choice: the `when` key, for "no else"
};

// Where a node sits in a parallel node's branches.
struct Placement {
  int parallel = -1;  // node index of the parallel node
  int branch = -1;
  int step = -1;
};

class WorkflowLoader {
 public:
  WorkflowLoader(std::string_view text, std::string_view file, const Org& org,
                 const CheckRegistry& checks)
      : r_(text, file), org_(org), checks_(checks) {
    env_.form = &def_.form;
    env_.org = &org_;
  }

  WorkflowLoad Run() {
    WorkflowLoad out;
    std::optional<YAML::Node> root = r_.Parse();
    if (root) {
      try {
        Load(*root);
      } catch (const YAML::Exception& e) {
        r_.Error(SourceLoc{r_.file(), e.mark.line + 1, e.mark.column + 1},
                 "cannot read the workflow: " + e.msg + " — fix the YAML structure here");
      } catch (const std::exception& e) {
        r_.Error(SourceLoc{r_.file(), 1, 1}, std::string("cannot read the workflow: ") +
                                                 e.what() +
                                                 " — please report this with the file");
      }
    }
    out.errors = r_.TakeErrors();
    if (out.errors.empty()) out.def = std::move(def_);
    return out;
  }

 private:
  // ---- pass 1: shapes ------------------------------------------------------

  void Load(const YAML::Node& root) {
    Map m = r_.OpenMap(root, "the workflow file", kTopKeys,
                       [](const std::string& key) -> std::string {
                         if (key == "version") {
                           return "unknown key 'version' in the workflow file — "
                                  "versions are assigned from the file's "
                                  "content hash; remove it";
                         }
                         return "";
                       });
    if (!m.ok()) return;
    def_.source_file = r_.file();
    if (auto id = r_.String(m, "id", "the workflow file", true, "id: expense")) {
      if (!IsName(*id, true)) {
        r_.Error(m.Find("id")->value,
                 "workflow id '" + *id +
                     "' is not valid — use lower-case "
                     "letters, digits, '_' and '-', starting with a letter");
      }
      def_.id = *id;
    }
    def_.title =
        r_.String(m, "title", "the workflow file", true, "title: 费用报销").value_or("");
    def_.title_en = r_.String(m, "title_en", "the workflow file", true,
                              "title_en: Expense reimbursement")
                        .value_or("");
    LoadForm(m);
    if (const Entry* e = m.Find("submitters"); e && !e->value.IsNull()) {
      def_.submitters = CompileExpr(*e, ExprKind::kPeople, "the workflow file");
    }
    def_.start = r_.String(m, "start", "the workflow file", true, "start: first_review")
                     .value_or("");
    if (m.Has("start")) start_loc_ = r_.Loc(m.Find("start")->value);

    std::optional<YAML::Node> nodes =
        r_.Sequence(m, "nodes", "the workflow file", true,
                    "nodes: [ { id: review, kind: approval, ... } ]");
    nodes_loc_ = m.Find("nodes") ? r_.Loc(m.Find("nodes")->key_node) : r_.Loc(root);
    if (nodes) {
      for (const YAML::Node& n : *nodes) LoadNode(n);
    }
    AddImplicitEnds();
    Resolve();
    Analyse();
  }

  // ---- form ----------------------------------------------------------------

  void LoadForm(const Map& m) {
    std::optional<YAML::Node> form = r_.Sequence(m, "form", "the workflow file", false);
    if (!form) return;
    std::map<std::string, SourceLoc> seen;
    for (const YAML::Node& f : *form) {
      std::optional<FieldDef> field = LoadField(f, "", 0);
      if (!field) continue;
      SourceLoc loc = r_.Loc(f);
      auto [it, fresh] = seen.emplace(field->name, loc);
      if (!fresh) {
        r_.Error(loc, "duplicate field name '" + field->name + "' (first at line " +
                          std::to_string(it->second.line) + ") — rename one");
        continue;
      }
      def_.form.push_back(std::move(*field));
    }
  }

  // Reads one field declaration; `prefix` is "invoices." inside a record.
  std::optional<FieldDef> LoadField(const YAML::Node& n, const std::string& prefix,
                                    int depth) {
    const std::string peeked = yaml_support::PeekScalar(n, "name");
    Map m =
        r_.OpenMap(n, peeked.empty() ? "a form field" : "field '" + prefix + peeked + "'",
                   kFieldKeys);
    if (!m.ok()) return std::nullopt;
    FieldDef f;
    std::optional<std::string> name =
        r_.String(m, "name", "a form field", true, "name: amount");
    if (name) {
      if (!IsName(*name, false)) {
        r_.Error(m.Find("name")->value,
                 "field name '" + *name +
                     "' is not valid — use lower-case "
                     "letters, digits and '_', starting with a letter "
                     "(expressions name it as form.<name>)");
      }
      f.name = *name;
    }
    const std::string what = "field '" + prefix + f.name + "'";
    f.label = r_.String(m, "label", what, false).value_or("");
    f.label_en = r_.String(m, "label_en", what, false).value_or("");
    f.help = r_.String(m, "help", what, false).value_or("");
    f.required = r_.Bool(m, "required", what).value_or(false);
    std::optional<Type> type = LoadType(m, what, prefix + f.name + ".", depth);
    if (type) f.type = *type;

    // Bounds, each only where it means something.
    const TypeKind kind = type ? type->kind : TypeKind::kNull;
    for (const char* key : {"min", "max"}) {
      const Entry* e = m.Find(key);
      if (e == nullptr || e->value.IsNull()) continue;
      if (type && kind != TypeKind::kInt && kind != TypeKind::kMoney) {
        r_.Error(e->key_node, "'" + std::string(key) +
                                  "' applies only to int "
                                  "and money fields, not to " +
                                  type->ToString() + " — remove it");
        continue;
      }
      std::optional<std::string> s =
          r_.Scalar(e->value, "'" + std::string(key) + "' of " + what);
      if (!s) continue;
      std::optional<int64_t> bound;
      if (kind == TypeKind::kMoney) {
        if (std::optional<Money> money = ParseYuan(*s)) {
          bound = money->fen;
        } else {
          r_.Error(e->value, "bad amount '" + *s + "' for " + key + " of " + what +
                                 " — write yuan with at most two decimals, "
                                 "e.g. \"0.01\" or \"10000000.00\"");
        }
      } else if (kind == TypeKind::kInt) {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
        if (ec == std::errc() && end == s->data() + s->size()) {
          bound = v;
        } else {
          r_.Error(e->value, "bad bound '" + *s + "' for " + key + " of " + what +
                                 " — write a whole number, e.g. 1");
        }
      }
      if (bound) (std::string(key) == "min" ? f.min : f.max) = bound;
    }
    if (f.min && f.max && *f.min > *f.max) {
      r_.Error(m.Find("max")->value, "max of " + what +
                                         " is below its min — "
                                         "swap them or fix one");
    }
    for (const char* key : {"min_items", "max_items"}) {
      if (!m.Has(key)) continue;
      if (type && kind != TypeKind::kList) {
        r_.Error(m.Find(key)->key_node, "'" + std::string(key) +
                                            "' applies only to list fields — "
                                            "remove it");
        continue;
      }
      std::optional<int64_t> v = r_.Int(m, key, what, 0, 10000);
      if (v)
        (std::string(key) == "min_items" ? f.min_items : f.max_items) =
            static_cast<int>(*v);
    }
    if (f.max_items > 0 && f.min_items > f.max_items) {
      r_.Error(m.Find("max_items")->value,
               "max_items of " + what + " is below its min_items — fix one");
    }
    // A field with a bad bound or label is kept (the error is reported and
    // no definition is returned), so expressions using it do not cascade.
    if (!name || !IsName(*name, false) || !type) return std::nullopt;
    return f;
  }

  // Reads `type` and the keys that refine it (max_length, options, element,
  // fields) from `m`, which is a field or a list element.
  std::optional<Type> LoadType(const Map& m, const std::string& what,
                               const std::string& prefix, int depth) {
    std::optional<std::string> name = r_.String(m, "type", what, true, "type: text");
    if (!name) return std::nullopt;
    int index = IndexOf(kTypeNames, *name);
    if (index < 0) {
      std::string suggestion = ClosestMatch(*name, kTypeNames);
      r_.Error(m.Find("type")->value,
               "unknown type '" + *name + "' for " + what +
                   (suggestion.empty() ? "" : " — did you mean '" + suggestion + "'?") +
                   (suggestion.empty() ? " — use one of: " + JoinNames(kTypeNames) : ""));
      return std::nullopt;
    }
    static const TypeKind kKinds[] = {
        TypeKind::kBool,     TypeKind::kInt,        TypeKind::kMoney, TypeKind::kDate,
        TypeKind::kDateTime, TypeKind::kText,       TypeKind::kEnum,  TypeKind::kPerson,
        TypeKind::kDept,     TypeKind::kAttachment, TypeKind::kList,  TypeKind::kRecord};
    Type t = Type::Of(kKinds[index]);

    auto only_for = [&](const char* key, TypeKind k, const char* kind_name) {
      const Entry* e = m.Find(key);
      if (e == nullptr || t.kind == k) return;
      r_.Error(e->key_node, "'" + std::string(key) + "' applies only to " + kind_name +
                                " fields, not to " + *name + " — remove it");
    };
    only_for("max_length", TypeKind::kText, "text");
    only_for("options", TypeKind::kEnum, "enum");
    only_for("option_labels", TypeKind::kEnum, "enum");
    only_for("option_labels_en", TypeKind::kEnum, "enum");
    only_for("element", TypeKind::kList, "list");
    only_for("fields", TypeKind::kRecord, "record");

    if (t.kind == TypeKind::kText) {
      t.max_length =
          static_cast<int>(r_.Int(m, "max_length", what, 1, 1000000).value_or(0));
    }
    if (t.kind == TypeKind::kEnum) LoadOptions(m, what, &t);
    if (t.kind == TypeKind::kList || t.kind == TypeKind::kRecord) {
      if (depth >= 3) {
        r_.Error(m.Find("type")->value,
                 what +
                     " nests lists and records too deeply — at most three "
                     "levels are supported; flatten it");
        return std::nullopt;
      }
    }
    if (t.kind == TypeKind::kList) {
      const Entry* e = m.Find("element");
      if (e == nullptr || e->value.IsNull()) {
        r_.Missing(m, "element", what, "element: { type: text }");
        return std::nullopt;
      } else {
        Map em = r_.OpenMap(e->value, "the element of " + what, kElementKeys);
        if (em.ok()) {
          std::optional<Type> element =
              LoadType(em, "the element of " + what, prefix, depth + 1);
          if (!element) return std::nullopt;
          if (element->kind == TypeKind::kList) {
            r_.Error(e->value, "a list of lists is not supported in " + what +
                                   " — use a list of records");
          }
          t = Type::ListOf(*element);
        } else {
          return std::nullopt;
        }
      }
    }
    if (t.kind == TypeKind::kRecord) {
      std::optional<YAML::Node> fields = r_.Sequence(
          m, "fields", what, true, "fields: [ { name: number, type: text } ]");
      if (fields) {
        auto list = std::make_shared<std::vector<FieldDef>>();
        std::set<std::string> seen;
        for (const YAML::Node& fn : *fields) {
          std::optional<FieldDef> sub = LoadField(fn, prefix, depth + 1);
          if (!sub) continue;
          if (!seen.insert(sub->name).second) {
            r_.Error(fn, "duplicate field name '" + sub->name + "' in " + what +
                             " — rename one");
            continue;
          }
          list->push_back(std::move(*sub));
        }
        if (fields->size() == 0) {
          r_.Error(m.Find("fields")->value,
                   what + " has no fields — declare at least one");
        }
        t.fields = std::move(list);
      }
    }
    return t;
  }

  void LoadOptions(const Map& m, const std::string& what, Type* t) {
    if (!m.Has("options")) {
      r_.Missing(m, "options", what, "options: [travel, meeting, other]");
      return;
    }
    auto options = r_.StringList(m, "options", what);
    if (!options) return;
    if (options->empty()) {
      r_.Error(m.Find("options")->value, what + " has no options — list at least one");
    }
    std::set<std::string> seen;
    for (const auto& [opt, node] : *options) {
      if (opt.empty()) {
        r_.Error(node, "an option of " + what + " is empty — remove it");
      } else if (!seen.insert(opt).second) {
        r_.Error(node, "option '" + opt + "' appears twice in " + what + " — remove one");
      }
      t->options.push_back(opt);
    }
    for (const char* key : {"option_labels", "option_labels_en"}) {
      auto labels = r_.StringList(m, key, what);
      if (!labels) continue;
      if (labels->size() != options->size()) {
        r_.Error(m.Find(key)->value,
                 "'" + std::string(key) + "' of " + what + " gives " +
                     Count(labels->size(), "label") + " for " +
                     Count(options->size(), "option") +
                     " — give one label per option, in the same order");
        continue;
      }
      auto& out =
          std::string(key) == "option_labels" ? t->option_labels : t->option_labels_en;
      for (const auto& [label, node] : *labels) out.push_back(label);
    }
  }

  // ---- expressions ---------------------------------------------------------

  enum class ExprKind { kBool, kPeople };

  // Compiles the scalar at `e` as an expression of the given kind; reports
  // errors at their exact column. Returns null on error.
  ExprPtr CompileExpr(const Entry& e, ExprKind kind, const std::string& what) {
    if (!e.value.IsScalar()) {
      r_.Error(e.value,
               "'" + e.key + "' of " + what +
                   " must be an expression "
                   "in one string, not a list or mapping — e.g. " +
                   (kind == ExprKind::kBool ? std::string("\"form.amount >= yuan(1000)\"")
                                            : std::string("\"[head_of(submitter.dept), "
                                                          "person('chen_zhiyuan')]\"")));
      return nullptr;
    }
    const std::string source = e.value.Scalar();
    if (source.find_first_not_of(" \t\r\n") == std::string::npos) {
      r_.Error(r_.ValueLoc(e),
               "'" + e.key + "' of " + what + " is empty — write an expression");
      return nullptr;
    }
    auto compiled = expr::Compile(source, env_);
    if (!compiled) {
      r_.Error(r_.LocInScalar(e.value, compiled.error().offset),
               e.key + ": " + compiled.error().message);
      return nullptr;
    }
    const Type& type = compiled->type;
    if (kind == ExprKind::kBool && type.kind != TypeKind::kBool) {
      r_.Error(e.value, "'" + e.key + "' of " + what +
                            " must be a condition "
                            "(bool), but \"" +
                            source + "\" is " + type.ToString() +
                            " — compare it, e.g. form.amount >= yuan(1000)");
      return nullptr;
    }
    if (kind == ExprKind::kPeople && !expr::IsPeopleType(type)) {
      r_.Error(e.value, "'" + e.key + "' of " + what +
                            " must name people "
                            "(person or list<person>), but \"" +
                            source + "\" is " + type.ToString() +
                            " — use e.g. head_of(submitter.dept), "
                            "holders('cashier'), group('leadership') or a person "
                            "field");
      return nullptr;
    }
    return std::make_shared<const expr::Expr>(std::move(*compiled));
  }

  // ---- nodes ---------------------------------------------------------------

  void LoadNode(const YAML::Node& n) {
    const size_t errors_before = r_.error_count();
    NodeDef node;
    NodeInfo info;
    info.loc = r_.Loc(n);
    node.loc = info.loc;

    // Peek at `kind` first: it decides which keys are allowed.
    std::string kind_name;
    if (n.IsMap()) {
      for (const auto& kv : n) {
        if (kv.first.IsScalar() && kv.first.Scalar() == "kind" && kv.second.IsScalar()) {
          kind_name = kv.second.Scalar();
          break;
        }
      }
    }
    const int kind_index = IndexOf(kKindNames, kind_name);
    std::string kind_label = kind_index >= 0 ? kind_name + " node" : "node";
    const std::vector<std::string> allowed =
        AllowedKeys(kind_index >= 0 ? kind_name : "");

    // The id, for messages about this node; read before OpenMap so that
    // unknown-key messages can name the node.
    std::string peek_id;
    if (n.IsMap()) {
      for (const auto& kv : n) {
        if (kv.first.IsScalar() && kv.first.Scalar() == "id" && kv.second.IsScalar()) {
          peek_id = kv.second.Scalar();
          break;
        }
      }
    }
    const std::string what =
        peek_id.empty() ? kind_label : kind_label + " '" + peek_id + "'";

    Map m = r_.OpenMap(n, what, allowed, [&](const std::string& key) {
      std::vector<std::string> users;
      for (const auto& [k, keys] : KindKeys()) {
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
          users.push_back(k);
        }
      }
      if (users.empty() || kind_index < 0) return std::string();
      return "key '" + key + "' does not apply to " + kind_name +
             " nodes — remove it (it is used by " + JoinNames(users) + " nodes)";
    });
    if (!m.ok()) return;
    for (const Entry& e : m.entries()) info.keys[e.key] = r_.Loc(e.key_node);
    info.suggested = m.suggested();

    if (auto id = r_.String(m, "id", what, true, "id: dept_head_review")) {
      if (!IsName(*id, false)) {
        r_.Error(m.Find("id")->value, "node id '" + *id +
                                          "' is not valid — use lower-case letters, "
                                          "digits and '_', starting with a letter");
      } else if (*id == kReturnToSubmitter) {
        r_.Error(m.Find("id")->value,
                 "node id 'start' is reserved (return_to: [start] sends a "
                 "request back to its submitter) — rename the node");
      }
      node.id = *id;
    }
    std::optional<std::string> kind = r_.String(m, "kind", what, true, "kind: approval");
    if (kind && kind_index < 0) {
      std::string suggestion = ClosestMatch(*kind, kKindNames);
      r_.Error(m.Find("kind")->value,
               "unknown node kind '" + *kind + "'" +
                   (suggestion.empty() ? "" : " — did you mean '" + suggestion + "'?") +
                   (suggestion.empty() ? " — use one of: " + JoinNames(kKindNames) : ""));
    }
    static const NodeKind kKinds[] = {
        NodeKind::kApproval, NodeKind::kTask,    NodeKind::kParallel, NodeKind::kChoice,
        NodeKind::kCheck,    NodeKind::kMeeting, NodeKind::kEnd};
    if (kind_index >= 0) node.kind = kKinds[kind_index];

    const bool titled =
        kind_index >= 0 && node.kind != NodeKind::kChoice && node.kind != NodeKind::kEnd;
    node.title =
        r_.String(m, "title", what, titled, "title: 业务股室负责人审核").value_or("");
    node.title_en = r_.String(m, "title_en", what, false).value_or("");

    if (kind_index < 0) {
      // Unknown kind: still check the successors it names, but the graph is
      // incomplete, so reachability is not judged.
      unresolved_ = true;
      std::string ignored;
      for (const char* key :
           {"next", "on_reject", "on_pass", "on_fail", "on_flag", "on_defer"}) {
        RefAt(m, key, what, &info, &ignored);
      }
    } else {
      switch (node.kind) {
        case NodeKind::kApproval:
          LoadApproval(m, what, &node, &info);
          break;
        case NodeKind::kTask:
          LoadTask(m, what, &node, &info);
          break;
        case NodeKind::kParallel:
          LoadParallel(m, what, &node, &info);
          break;
        case NodeKind::kChoice:
          LoadChoice(m, what, &node, &info);
          break;
        case NodeKind::kCheck:
          LoadCheck(m, what, &node, &info);
          break;
        case NodeKind::kMeeting:
          LoadMeeting(m, what, &node, &info);
          break;
        case NodeKind::kEnd:
          LoadEnd(m, what, &node);
          break;
      }
    }
    info.broken = r_.error_count() != errors_before || kind_index < 0;
    if (node.id.empty() || !IsName(node.id, false) || node.id == kReturnToSubmitter) {
      return;  // reported; nothing can refer to it
    }
    auto [it, fresh] = def_.node_index.emplace(node.id, def_.nodes.size());
    if (!fresh) {
      r_.Error(m.Find("id")->value, "duplicate node id '" + node.id +
                                        "' (first at line " +
                                        std::to_string(def_.nodes[it->second].loc.line) +
                                        ") — node ids must be unique; rename one");
      return;
    }
    def_.nodes.push_back(std::move(node));
    info_.push_back(std::move(info));
  }

  // Records a reference to another node found at m[key].
  void RefAt(const Map& m, const std::string& key, const std::string& what,
             NodeInfo* info, std::string* out) {
    std::optional<std::string> target = r_.String(m, key, what, false);
    if (!target) return;
    *out = *target;
    info->refs.push_back(Ref{key, *target, r_.Loc(m.Find(key)->value)});
  }

  void RefList(const Map& m, const std::string& key, const std::string& what,
               NodeInfo* info, std::vector<std::string>* out) {
    auto list = r_.StringList(m, key, what);
    if (!list) return;
    std::set<std::string> seen;
    for (const auto& [target, node] : *list) {
      if (!seen.insert(target).second) {
        r_.Error(node, "'" + target + "' is listed twice in " + key + " of " + what +
                           " — remove one");
        continue;
      }
      out->push_back(target);
      info->refs.push_back(Ref{key, target, r_.Loc(node)});
    }
  }

  void LoadActors(const Map& m, const std::string& what, NodeDef* node, NodeInfo* info) {
    if (const Entry* e = m.Find("assignees"); e && !e->value.IsNull()) {
      node->assignees = CompileExpr(*e, ExprKind::kPeople, what);
    } else {
      r_.Missing(m, "assignees", what, "assignees: \"head_of(submitter.dept)\"");
    }
    RefList(m, "distinct_from", what, info, &node->distinct_from);
    RefList(m, "return_to", what, info, &node->return_to);
    node->comment_required = r_.Bool(m, "comment_required", what).value_or(false);
    node->allow_transfer = r_.Bool(m, "allow_transfer", what).value_or(true);
    node->allow_delegate = r_.Bool(m, "allow_delegate", what).value_or(true);
    node->allow_repeat_actor = r_.Bool(m, "allow_repeat_actor", what).value_or(false);
    RefAt(m, "next", what, info, &node->next);
    LoadDeadline(m, what, node);
  }

  void LoadApproval(const Map& m, const std::string& what, NodeDef* node,
                    NodeInfo* info) {
    LoadActors(m, what, node, info);
    node->allow_add_signer = r_.Bool(m, "allow_add_signer", what).value_or(true);
    RefAt(m, "on_reject", what, info, &node->on_reject);
    if (auto mode = r_.String(m, "mode", what, false)) {
      int index = IndexOf(kModeNames, *mode);
      if (index < 0) {
        ReportUnknown(m.Find("mode")->value, "approval mode", *mode, kModeNames);
      } else {
        static const ApprovalMode kModes[] = {ApprovalMode::kSingle, ApprovalMode::kAll,
                                              ApprovalMode::kAny, ApprovalMode::kSequence,
                                              ApprovalMode::kVote};
        node->mode = kModes[index];
      }
    }
    const bool vote = node->mode == ApprovalMode::kVote;
    if (vote) {
      if (const Entry* e = m.Find("pass"); e && !e->value.IsNull()) {
        if (auto ratio = LoadRatio(e->value, "pass of " + what)) node->pass = *ratio;
      } else {
        r_.Missing(m, "pass", what,
                   "pass: \"2/3\" (share of assignees who "
                   "must approve)");
      }
      node->veto = r_.Bool(m, "veto", what).value_or(false);
    } else {
      for (const char* key : {"pass", "veto"}) {
        if (const Entry* e = m.Find(key)) {
          r_.Error(e->key_node, "'" + std::string(key) +
                                    "' applies only to "
                                    "mode: vote (票签) — remove it or set mode: vote");
        }
      }
    }
  }

  void LoadTask(const Map& m, const std::string& what, NodeDef* node, NodeInfo* info) {
    LoadActors(m, what, node, info);
    node->allow_add_signer = false;  // 加签 applies to approvals only
    if (auto list = r_.StringList(m, "task_fields", what)) {
      std::set<std::string> seen;
      for (const auto& [name, n] : *list) {
        if (!seen.insert(name).second) {
          r_.Error(n, "'" + name + "' is listed twice in task_fields of " + what +
                          " — remove one");
          continue;
        }
        node->task_fields.push_back(name);
        info->task_fields.emplace_back(name, r_.Loc(n));
      }
    }
  }

  void LoadParallel(const Map& m, const std::string& what, NodeDef* node,
                    NodeInfo* info) {
    if (auto join = r_.String(m, "join", what, false)) {
      int index = IndexOf(kJoinNames, *join);
      if (index < 0) {
        ReportUnknown(m.Find("join")->value, "join mode", *join, kJoinNames);
      } else {
        node->join = index == 0 ? JoinMode::kAll : JoinMode::kAny;
      }
    }
    RefAt(m, "next", what, info, &node->next);
    if (!m.Has("next")) {
      r_.Missing(m, "next", what, "next: amount_route");
      unresolved_ = true;
    }
    RefAt(m, "on_reject", what, info, &node->on_reject);
    std::optional<YAML::Node> branches =
        r_.Sequence(m, "branches", what, true,
                    "branches: [ { name: business, nodes: [dept_head_review] }, ... ]");
    if (!branches) return;
    std::set<std::string> names;
    for (const YAML::Node& b : *branches) {
      Map bm = r_.OpenMap(b, "a branch of " + what, {"name", "nodes"});
      if (!bm.ok()) continue;
      Branch branch;
      if (auto name =
              r_.String(bm, "name", "a branch of " + what, true, "name: finance")) {
        if (!names.insert(*name).second) {
          r_.Error(bm.Find("name")->value,
                   "duplicate branch name '" + *name + "' in " + what + " — rename one");
        }
        branch.name = *name;
      }
      const std::string bwhat = "branch '" + branch.name + "' of " + what;
      if (!bm.Has("nodes")) {
        r_.Missing(bm, "nodes", bwhat, "nodes: [finance_review]");
      } else if (auto list = r_.StringList(bm, "nodes", bwhat)) {
        if (list->empty()) {
          r_.Error(bm.Find("nodes")->value,
                   bwhat + " has no nodes — list at least one node id");
        }
        for (const auto& [id, n] : *list) {
          info->refs.push_back(Ref{"branches", id, r_.Loc(n),
                                   static_cast<int>(node->branches.size()),
                                   static_cast<int>(branch.nodes.size())});
          branch.nodes.push_back(id);
        }
      }
      node->branches.push_back(std::move(branch));
    }
    if (branches->size() < 2) {
      r_.Error(m.Find("branches")->value,
               what + " has " + std::to_string(branches->size()) +
                   (branches->size() == 1 ? " branch" : " branches") +
                   " — a parallel node needs at least two; for one line chain "
                   "the nodes with next:");
    }
    if (node->on_reject.empty()) node->on_reject = "rejected";
  }

  void LoadChoice(const Map& m, const std::string& what, NodeDef* node, NodeInfo* info) {
    std::optional<YAML::Node> arms = r_.Sequence(
        m, "when", what, true,
        "when: [ { if: \"form.amount >= yuan(50000)\", to: big }, { else: small } ]");
    if (!arms) return;
    info->when_loc = r_.Loc(m.Find("when")->key_node);
    bool has_else = false;
    size_t index = 0;
    for (const YAML::Node& a : *arms) {
      ++index;
      Map am = r_.OpenMap(a, "an arm of 'when' in " + what, {"if", "to", "else"});
      if (!am.ok()) continue;
      ChoiceArm arm;
      arm.loc = r_.Loc(a);
      if (am.Find("else")) {
        if (am.Find("if") || am.Find("to")) {
          r_.Error(a, "an arm of 'when' in " + what +
                          " mixes 'else' with "
                          "'if'/'to' — write { else: <node> } on its own");
          continue;
        }
        if (has_else) {
          r_.Error(a, "a second 'else' arm in " + what + " — keep one");
          continue;
        }
        has_else = true;
        if (index != arms->size()) {
          r_.Error(a, "the 'else' arm of " + what +
                          " must be the last arm — "
                          "arms after it could never be taken; move it to the end");
        }
        RefAt(am, "else", what, info, &arm.to);
        if (!am.Has("else"))
          r_.Missing(am, "else", "an arm of 'when'", "else: next_node");
      } else {
        if (const Entry* e = am.Find("if"); e && !e->value.IsNull()) {
          arm.when = CompileExpr(*e, ExprKind::kBool, what);
        } else {
          r_.Missing(am, "if", "an arm of 'when' in " + what,
                     "if: \"form.amount >= yuan(50000)\" (or { else: <node> })");
        }
        if (!am.Has("to")) {
          r_.Missing(am, "to", "an arm of 'when' in " + what, "to: next_node");
          unresolved_ = true;
        }
        RefAt(am, "to", what, info, &arm.to);
      }
      node->arms.push_back(std::move(arm));
    }
    if (!has_else) {
      r_.Error(info->when_loc, "the last arm of 'when' in " + what +
                                   " must be { else: <node> } "
                                   "— add one so the choice always has a way out");
    }
  }

  void LoadCheck(const Map& m, const std::string& what, NodeDef* node, NodeInfo* info) {
    if (auto check = r_.String(m, "check", what, true, "check: duplicate_invoice")) {
      node->check = *check;
      if (!checks_.Has(*check)) {
        std::vector<std::string> names = checks_.Names();
        std::string suggestion = ClosestMatch(*check, names);
        r_.Error(m.Find("check")->value,
                 "unknown check '" + *check + "'" +
                     (suggestion.empty() ? " — built-in checks: " + JoinNames(names)
                                         : " — did you mean '" + suggestion + "'?"));
      }
    }
    if (const Entry* e = m.Find("params"); e && !e->value.IsNull()) {
      if (!e->value.IsMap()) {
        r_.Error(e->value, "'params' of " + what +
                               " must be a mapping, e.g. "
                               "params: { field: invoices }");
      } else {
        Map pm = r_.OpenMap(e->value, "params of " + what, ParamKeys(e->value));
        for (const Entry& p : pm.entries()) {
          node->params[p.key] = ToValue(p.value);
          const bool names_field =
              p.key == "field" ||
              (p.key.size() > 6 && p.key.compare(p.key.size() - 6, 6, "_field") == 0);
          if (names_field && p.value.IsScalar()) {
            info->param_fields.emplace_back(p.value.Scalar(), r_.Loc(p.value));
          }
        }
      }
    }
    RefAt(m, "on_pass", what, info, &node->on_pass);
    RefAt(m, "on_fail", what, info, &node->on_fail);
    RefAt(m, "on_flag", what, info, &node->on_flag);
  }

  static std::vector<std::string> ParamKeys(const YAML::Node& map) {
    std::vector<std::string> keys;  // params are free-form: every key is allowed
    for (const auto& kv : map) {
      if (kv.first.IsScalar()) keys.push_back(kv.first.Scalar());
    }
    return keys;
  }

  // A check parameter as a Value: plain true/false -> bool, plain integers ->
  // int, other scalars -> text, lists and mappings recursively.
  static Value ToValue(const YAML::Node& n) {
    if (n.IsNull()) return Value::Null();
    if (n.IsSequence()) {
      Value::List list;
      for (const YAML::Node& item : n) list.push_back(ToValue(item));
      return Value::Of(std::move(list));
    }
    if (n.IsMap()) {
      Value::Record rec;
      for (const auto& kv : n) {
        rec[kv.first.Scalar()] = ToValue(kv.second);
      }
      return Value::Of(std::move(rec));
    }
    const std::string& s = n.Scalar();
    if (IsPlain(n)) {
      if (s == "true") return Value::Bool(true);
      if (s == "false") return Value::Bool(false);
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
        return Value::Int(v);
      }
    }
    return Value::Str(s);
  }

  void LoadMeeting(const Map& m, const std::string& what, NodeDef* node, NodeInfo* info) {
    MeetingDef& mt = node->meeting;
    struct PeopleKey {
      const char* key;
      ExprPtr* out;
      const char* example;
    };
    for (const PeopleKey& k :
         {PeopleKey{"members", &mt.members, "members: \"group('leadership')\""},
          PeopleKey{"head", &mt.head, "head: \"holders('head_of_unit')\""},
          PeopleKey{"secretary", &mt.secretary,
                    "secretary: \"holders('office_director')\""}}) {
      if (const Entry* e = m.Find(k.key); e && !e->value.IsNull()) {
        *k.out = CompileExpr(*e, ExprKind::kPeople, what);
      } else {
        r_.Missing(m, k.key, what, k.example);
      }
    }
    if (const Entry* e = m.Find("quorum"); e && !e->value.IsNull()) {
      LoadQuorum(e->value, what, &mt);
    } else {
      mt.quorum = {QuorumRule{nullptr, Ratio{1, 2, true}}};
    }
    if (const Entry* e = m.Find("pass"); e && !e->value.IsNull()) {
      if (auto ratio = LoadRatio(e->value, "pass of " + what)) mt.pass = *ratio;
    } else {
      mt.pass = Ratio{1, 2, true};
    }
    if (auto s = r_.String(m, "deliberation", what, false)) {
      if (auto d = ParseDuration(*s)) {
        mt.deliberation_ms = d->after_ms;
        mt.deliberation_working_days = d->working_days;
      } else {
        BadDuration(m.Find("deliberation")->value, *s);
      }
    }
    mt.read_receipts_required = r_.Bool(m, "read_receipts", what).value_or(true);
    mt.recused_count_for_quorum =
        r_.Bool(m, "recused_count_for_quorum", what).value_or(false);
    RefAt(m, "on_pass", what, info, &mt.on_pass);
    if (!m.Has("on_pass")) {
      r_.Missing(m, "on_pass", what, "on_pass: minutes");
      unresolved_ = true;  // the graph is incomplete
    }
    RefAt(m, "on_fail", what, info, &mt.on_fail);
    if (mt.on_fail.empty()) mt.on_fail = "rejected";
    RefAt(m, "on_defer", what, info, &mt.on_defer);
    LoadDeadline(m, what, node);
  }

  void LoadQuorum(const YAML::Node& n, const std::string& what, MeetingDef* mt) {
    std::vector<YAML::Node> rules;
    if (n.IsSequence()) {
      for (const YAML::Node& r : n) rules.push_back(r);
    } else {
      rules.push_back(n);
    }
    if (rules.empty()) {
      r_.Error(n, "'quorum' of " + what +
                      " is empty — give at least one rule, "
                      "e.g. { ratio: 1/2, strict: true }");
      return;
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      const std::string rwhat = "a quorum rule of " + what;
      Map qm = r_.OpenMap(rules[i], rwhat, {"if", "ratio", "strict"});
      if (!qm.ok()) continue;
      QuorumRule rule;
      const bool last = i + 1 == rules.size();
      if (const Entry* e = qm.Find("if"); e && !e->value.IsNull()) {
        rule.when = CompileExpr(*e, ExprKind::kBool, what);
        if (last) {
          r_.Error(rules[i], "the last quorum rule of " + what +
                                 " has an 'if' "
                                 "— end with a rule without 'if' so every topic has "
                                 "a quorum, e.g. { ratio: 1/2, strict: true }");
        }
      } else if (!last) {
        r_.Error(rules[i], "a quorum rule without 'if' must be the last one in " + what +
                               " — rules after it could never apply; move "
                               "it to the end");
      }
      if (auto ratio = LoadRatioFields(qm, rwhat)) rule.ratio = *ratio;
      mt->quorum.push_back(std::move(rule));
    }
  }

  // A ratio written as "2/3" (at least) or { ratio: 2/3, strict: true }.
  std::optional<Ratio> LoadRatio(const YAML::Node& n, const std::string& what) {
    if (n.IsScalar()) {
      std::optional<Ratio> r = ParseRatio(n.Scalar(), false);
      if (!r) BadRatio(n, n.Scalar());
      return r;
    }
    Map m = r_.OpenMap(n, what, {"ratio", "strict"});
    if (!m.ok()) return std::nullopt;
    return LoadRatioFields(m, what);
  }

  std::optional<Ratio> LoadRatioFields(const Map& m, const std::string& what) {
    std::optional<bool> strict = r_.Bool(m, "strict", what);
    std::optional<std::string> text = r_.String(m, "ratio", what, true, "ratio: 1/2");
    if (!text) return std::nullopt;
    std::optional<Ratio> r = ParseRatio(*text, strict.value_or(false));
    if (!r) BadRatio(m.Find("ratio")->value, *text);
    return r;
  }

  void BadRatio(const YAML::Node& at, const std::string& text) {
    r_.Error(at, "bad ratio '" + text +
                     "' — write N/M with 0 < N <= M "
                     "(M at most 1000), e.g. 1/2 or 2/3");
  }

  void BadDuration(const YAML::Node& at, const std::string& text) {
    r_.Error(at, "bad duration '" + text +
                     "' — write minutes (30m), hours "
                     "(48h), days (2d) or working days (\"2 working days\"), more "
                     "than zero and at most a year");
  }

  void LoadDeadline(const Map& m, const std::string& what, NodeDef* node) {
    const Entry* e = m.Find("deadline");
    if (e == nullptr || e->value.IsNull()) return;
    const std::string dwhat = "the deadline of " + what;
    Map dm = r_.OpenMap(e->value, dwhat, {"after", "action", "to"});
    if (!dm.ok()) return;
    DeadlineDef d;
    d.loc = r_.Loc(e->value);
    bool ok = true;
    if (auto after = r_.String(dm, "after", dwhat, true, "after: 48h")) {
      if (auto parsed = ParseDuration(*after)) {
        d.after_ms = parsed->after_ms;
        d.working_days = parsed->working_days;
      } else {
        BadDuration(dm.Find("after")->value, *after);
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto action = r_.String(dm, "action", dwhat, false)) {
      int index = IndexOf(kActionNames, *action);
      if (index < 0) {
        ReportUnknown(dm.Find("action")->value, "deadline action", *action, kActionNames);
        ok = false;
      } else {
        static const DeadlineAction kActions[] = {
            DeadlineAction::kRemind, DeadlineAction::kEscalate,
            DeadlineAction::kAutoApprove, DeadlineAction::kAutoReject,
            DeadlineAction::kTransfer};
        d.action = kActions[index];
        // Which automatic actions make sense where.
        std::string refusal;
        if (node->kind == NodeKind::kTask && d.action == DeadlineAction::kAutoApprove) {
          refusal =
              "a task cannot complete itself (its work and task_fields "
              "need a person) — use remind, escalate, transfer or reject";
        } else if (node->kind == NodeKind::kMeeting &&
                   (d.action == DeadlineAction::kAutoApprove ||
                    d.action == DeadlineAction::kAutoReject ||
                    d.action == DeadlineAction::kTransfer)) {
          refusal =
              "a collective decision is never taken automatically nor "
              "handed to someone else — use remind or escalate";
        }
        if (!refusal.empty()) {
          r_.Error(dm.Find("action")->value,
                   "deadline action '" + *action + "' is not allowed on " +
                       std::string(NodeKindName(node->kind)) + " nodes: " + refusal);
          ok = false;
        }
      }
    }
    const bool needs_to =
        d.action == DeadlineAction::kEscalate || d.action == DeadlineAction::kTransfer;
    if (const Entry* to = dm.Find("to"); to && !to->value.IsNull()) {
      if (!needs_to) {
        r_.Error(to->key_node, "'to' in " + dwhat +
                                   " is used only with action "
                                   "escalate or transfer — remove it");
        ok = false;
      } else {
        d.to = CompileExpr(*to, ExprKind::kPeople, dwhat);
        if (!d.to) ok = false;
      }
    } else if (needs_to && dm.Find("action")) {
      r_.Missing(dm, "to", dwhat, "to: \"supervisor_of(submitter.dept)\"");
      ok = false;
    }
    if (ok) node->deadline = std::move(d);
  }

  void LoadEnd(const Map& m, const std::string& what, NodeDef* node) {
    std::optional<std::string> outcome = r_.String(m, "outcome", what, false);
    const int implied = IndexOf(kOutcomeNames, node->id);
    if (!outcome) {
      if (implied < 0) {
        r_.Missing(m, "outcome", what, "outcome: approved");
        return;
      }
      outcome = node->id;
    }
    int index = IndexOf(kOutcomeNames, *outcome);
    if (index < 0) {
      ReportUnknown(m.Find("outcome")->value, "outcome", *outcome, kOutcomeNames);
      return;
    }
    if (implied >= 0 && implied != index) {
      r_.Error(m.Find("outcome")->value,
               "end node '" + node->id + "' must have outcome " + node->id +
                   " — its id names the outcome; rename the node or fix the "
                   "outcome");
      return;
    }
    static const Outcome kOutcomes[] = {Outcome::kApproved, Outcome::kRejected,
                                        Outcome::kWithdrawn, Outcome::kCancelled};
    node->outcome = kOutcomes[index];
    if (node->title.empty()) node->title = DefaultEndTitle(node->outcome, false);
    if (node->title_en.empty()) node->title_en = DefaultEndTitle(node->outcome, true);
  }

  static std::string DefaultEndTitle(Outcome o, bool english) {
    switch (o) {
      case Outcome::kApproved:
        return english ? "Approved" : "已通过";
      case Outcome::kRejected:
        return english ? "Rejected" : "已驳回";
      case Outcome::kWithdrawn:
        return english ? "Withdrawn" : "已撤回";
      case Outcome::kCancelled:
        return english ? "Cancelled" : "已取消";
    }
    return "";
  }

  void ReportUnknown(const YAML::Node& at, const std::string& what,
                     const std::string& got, const std::vector<std::string>& names) {
    std::string suggestion = ClosestMatch(got, names);
    r_.Error(at, "unknown " + what + " '" + got + "'" +
                     (suggestion.empty() ? " — use one of: " + JoinNames(names)
                                         : " — did you mean '" + suggestion + "'?"));
  }

  void AddImplicitEnds() {
    for (Outcome o : {Outcome::kRejected, Outcome::kWithdrawn, Outcome::kCancelled}) {
      std::string id(OutcomeName(o));
      if (def_.node_index.count(id)) {
        const NodeDef& existing = def_.nodes[def_.node_index[id]];
        if (existing.kind != NodeKind::kEnd) {
          r_.Error(existing.loc, "node id '" + id +
                                     "' is reserved for the end node with "
                                     "outcome " +
                                     id + " — rename this node");
          info_[def_.node_index[id]].broken = true;
        }
        continue;
      }
      NodeDef end;
      end.id = id;
      end.kind = NodeKind::kEnd;
      end.outcome = o;
      end.title = DefaultEndTitle(o, false);
      end.title_en = DefaultEndTitle(o, true);
      end.loc = SourceLoc{r_.file(), 0, 0};
      def_.node_index[id] = def_.nodes.size();
      def_.nodes.push_back(std::move(end));
      NodeInfo info;
      info.implicit = true;
      info_.push_back(std::move(info));
    }
    if (def_.node_index.count("approved")) {
      const NodeDef& n = def_.nodes[def_.node_index["approved"]];
      if (n.kind != NodeKind::kEnd) {
        r_.Error(n.loc,
                 "node id 'approved' is reserved for the end node with "
                 "outcome approved — rename this node");
        info_[def_.node_index["approved"]].broken = true;
      }
    }
  }

  // ---- pass 2: references --------------------------------------------------

  int IndexOfNode(const std::string& id) const {
    auto it = def_.node_index.find(id);
    return it == def_.node_index.end() ? -1 : static_cast<int>(it->second);
  }

  std::vector<std::string> NodeIds() const {
    std::vector<std::string> ids;
    for (const NodeDef& n : def_.nodes) ids.push_back(n.id);
    return ids;
  }

  std::string Describe(int i) const {
    const NodeDef& n = def_.nodes[static_cast<size_t>(i)];
    return std::string(NodeKindName(n.kind)) + " node '" + n.id + "'";
  }

  void UnknownNode(const Ref& ref) {
    std::string suggestion = ClosestMatch(ref.target, NodeIds());
    const std::string& key = ref.key;
    r_.Error(ref.loc, key + ": no node '" + ref.target + "'" +
                          (suggestion.empty() ? " — declare it under nodes: or fix the id"
                                              : " — did you mean '" + suggestion + "'?"));
    unresolved_ = true;
  }

  void Resolve() {
    placement_.assign(def_.nodes.size(), Placement{});
    // Branch membership first: other checks depend on it.
    for (size_t p = 0; p < def_.nodes.size(); ++p) {
      NodeDef& par = def_.nodes[p];
      if (par.kind != NodeKind::kParallel) continue;
      for (const Ref& ref : info_[p].refs) {
        if (ref.key != "branches") continue;
        int t = IndexOfNode(ref.target);
        if (t < 0) {
          UnknownNode(ref);
          info_[p].broken = true;
          continue;
        }
        const NodeDef& member = def_.nodes[static_cast<size_t>(t)];
        if (member.kind != NodeKind::kApproval && member.kind != NodeKind::kTask &&
            member.kind != NodeKind::kCheck) {
          r_.Error(ref.loc, "'" + ref.target + "' is a " +
                                std::string(NodeKindName(member.kind)) +
                                " node — a parallel branch may hold only "
                                "approval, task and check nodes");
          info_[p].broken = true;
          unresolved_ = true;
          continue;
        }
        if (placement_[static_cast<size_t>(t)].parallel >= 0) {
          const Placement& pl = placement_[static_cast<size_t>(t)];
          r_.Error(ref.loc, "'" + ref.target + "' is already in branch '" +
                                def_.nodes[static_cast<size_t>(pl.parallel)]
                                    .branches[static_cast<size_t>(pl.branch)]
                                    .name +
                                "' of '" +
                                def_.nodes[static_cast<size_t>(pl.parallel)].id +
                                "' — a node runs in one branch only; declare a second "
                                "node");
          info_[p].broken = true;
          unresolved_ = true;
          continue;
        }
        placement_[static_cast<size_t>(t)] =
            Placement{static_cast<int>(p), ref.branch, ref.step};
      }
    }
    for (size_t i = 0; i < def_.nodes.size(); ++i) ResolveNode(static_cast<int>(i));
    ResolveStart();
  }

  bool InBranch(int i) const {
    return i >= 0 && placement_[static_cast<size_t>(i)].parallel >= 0;
  }

  std::string BranchName(int i) const {
    const Placement& pl = placement_[static_cast<size_t>(i)];
    return "branch '" +
           def_.nodes[static_cast<size_t>(pl.parallel)]
               .branches[static_cast<size_t>(pl.branch)]
               .name +
           "' of '" + def_.nodes[static_cast<size_t>(pl.parallel)].id + "'";
  }

  void ResolveNode(int i) {
    NodeDef& n = def_.nodes[static_cast<size_t>(i)];
    NodeInfo& info = info_[static_cast<size_t>(i)];
    const std::string what = Describe(i);
    const bool in_branch = InBranch(i);

    // Successors that a branch node must leave to its branch.
    if (in_branch) {
      for (const char* key : {"next", "on_reject", "on_pass", "on_fail", "on_flag"}) {
        auto it = info.keys.find(key);
        if (it == info.keys.end()) continue;
        r_.Error(it->second,
                 what + " runs in " + BranchName(i) + " and must not have '" + key +
                     "' — the branch runs its nodes in order and the "
                     "parallel node's next/on_reject say what follows; remove it");
        info.broken = true;
      }
      n.next.clear();
      n.on_reject.clear();
      n.on_pass.clear();
      n.on_fail.clear();
      n.on_flag.clear();
    } else if (!info.implicit) {
      switch (n.kind) {
        case NodeKind::kApproval:
        case NodeKind::kTask:
          if (!info.keys.count("next")) {
            if (!Suggested(info, "next")) {
              r_.Error(info.loc, "missing required key 'next' in " + what +
                                     " — add it, e.g. next: <node id> (only "
                                     "nodes listed in a parallel branch go "
                                     "without next)");
            }
            info.broken = true;
            unresolved_ = true;  // the graph is incomplete
          }
          if (n.kind == NodeKind::kApproval && n.on_reject.empty()) {
            n.on_reject = "rejected";
          }
          break;
        case NodeKind::kCheck:
          if (!info.keys.count("on_pass")) {
            if (!Suggested(info, "on_pass")) {
              r_.Error(info.loc, "missing required key 'on_pass' in " + what +
                                     " — add it, e.g. on_pass: <node id>");
            }
            info.broken = true;
            unresolved_ = true;
          }
          if (n.on_fail.empty()) n.on_fail = "rejected";
          break;
        default:
          break;
      }
    }

    for (const Ref& ref : info.refs) {
      if (ref.key == "branches") continue;  // done in Resolve()
      if (ref.key == "return_to" && ref.target == kReturnToSubmitter) continue;
      int t = IndexOfNode(ref.target);
      if (t < 0) {
        UnknownNode(ref);
        info.broken = true;
        continue;
      }
      const NodeDef& target = def_.nodes[static_cast<size_t>(t)];
      if (ref.key == "distinct_from") {
        if (t == i) {
          r_.Error(ref.loc, "distinct_from of " + what +
                                " names the node itself "
                                "— list other nodes whose actors must differ");
        } else if (target.kind != NodeKind::kApproval && target.kind != NodeKind::kTask) {
          r_.Error(ref.loc, "distinct_from: '" + ref.target + "' is a " +
                                std::string(NodeKindName(target.kind)) +
                                " node, which has no actors — name approval or "
                                "task nodes");
        }
        continue;
      }
      if (ref.key == "return_to") {
        if (target.kind != NodeKind::kApproval && target.kind != NodeKind::kTask) {
          r_.Error(ref.loc, "return_to: '" + ref.target + "' is a " +
                                std::string(NodeKindName(target.kind)) +
                                " node — 退回 goes to an approval or task node, "
                                "or to start (the submitter)");
        } else {
          return_checks_.push_back({i, t, ref.loc});
        }
        continue;
      }
      // A successor: next, on_reject, on_pass, on_fail, on_flag, on_defer,
      // when arms.
      if (t == i && ref.key != "on_defer") {
        r_.Error(ref.loc, ref.key + " of " + what +
                              " points to the node itself "
                              "— that loop has no way forward; name the node that "
                              "follows");
        info.broken = true;
        continue;
      }
      if (InBranch(t) && !in_branch) {
        const Placement& pl = placement_[static_cast<size_t>(t)];
        r_.Error(ref.loc, ref.key + ": '" + ref.target + "' runs inside " +
                              BranchName(t) + " — jump to the parallel node '" +
                              def_.nodes[static_cast<size_t>(pl.parallel)].id +
                              "' instead");
        info.broken = true;
      }
    }

    if (n.kind == NodeKind::kTask) {
      for (const auto& [name, loc] : info.task_fields) {
        const FieldDef* f = def_.FindField(name);
        if (f == nullptr) {
          UnknownField(name, loc, "task_fields");
        } else if (f->required) {
          r_.Error(loc, "task_fields: field '" + name +
                            "' is required at "
                            "submission, but task '" +
                            n.id +
                            "' fills it in — "
                            "remove required: true from the field");
        }
      }
    }
    for (const auto& [name, loc] : info.param_fields) {
      if (def_.FindField(name) == nullptr) UnknownField(name, loc, "params");
    }
  }

  static bool Suggested(const NodeInfo& info, const std::string& key) {
    return std::find(info.suggested.begin(), info.suggested.end(), key) !=
           info.suggested.end();
  }

  void UnknownField(const std::string& name, const SourceLoc& loc,
                    const std::string& key) {
    std::vector<std::string> names;
    for (const FieldDef& f : def_.form) names.push_back(f.name);
    std::string suggestion = ClosestMatch(name, names);
    r_.Error(loc, key + ": no form field '" + name + "'" +
                      (suggestion.empty() ? " — declare it under form:"
                                          : " — did you mean '" + suggestion + "'?"));
  }

  void ResolveStart() {
    if (def_.start.empty()) return;
    int s = IndexOfNode(def_.start);
    if (s < 0) {
      UnknownNode(Ref{"start", def_.start, start_loc_});
      return;
    }
    const NodeDef& n = def_.nodes[static_cast<size_t>(s)];
    if (n.kind == NodeKind::kEnd) {
      r_.Error(start_loc_, "start: '" + def_.start +
                               "' is an end node — start "
                               "at the first step that does something");
      start_ = -1;
      return;
    }
    if (InBranch(s)) {
      r_.Error(start_loc_, "start: '" + def_.start + "' runs inside " + BranchName(s) +
                               " — start at the parallel node "
                               "instead");
      start_ = -1;
      return;
    }
    start_ = s;
  }

  // ---- pass 3: the graph ---------------------------------------------------

  // Successors of node i, as the engine may move: the explicit edges, a
  // parallel into its branches, a branch node to the next in its branch or,
  // as the last, to what follows the parallel.
  std::vector<int> Successors(int i) const {
    std::vector<int> out;
    auto add = [&](const std::string& id) {
      int t = IndexOfNode(id);
      if (t >= 0) out.push_back(t);
    };
    const NodeDef& n = def_.nodes[static_cast<size_t>(i)];
    if (InBranch(i)) {
      const Placement& pl = placement_[static_cast<size_t>(i)];
      const NodeDef& par = def_.nodes[static_cast<size_t>(pl.parallel)];
      const auto& nodes = par.branches[static_cast<size_t>(pl.branch)].nodes;
      if (static_cast<size_t>(pl.step) + 1 < nodes.size()) {
        add(nodes[static_cast<size_t>(pl.step) + 1]);
      } else {
        add(par.next);
      }
      if (n.kind != NodeKind::kTask) add(par.on_reject);  // the line fails
      return out;
    }
    switch (n.kind) {
      case NodeKind::kApproval:
        add(n.next);
        add(n.on_reject);
        break;
      case NodeKind::kTask:
        add(n.next);
        break;
      case NodeKind::kParallel:
        for (const Branch& b : n.branches) {
          if (!b.nodes.empty()) add(b.nodes.front());
        }
        add(n.next);
        add(n.on_reject);
        break;
      case NodeKind::kChoice:
        for (const ChoiceArm& a : n.arms) add(a.to);
        break;
      case NodeKind::kCheck:
        add(n.on_pass);
        add(n.on_fail);
        add(n.on_flag);
        break;
      case NodeKind::kMeeting:
        add(n.meeting.on_pass);
        add(n.meeting.on_fail);
        add(n.meeting.on_defer);
        break;
      case NodeKind::kEnd:
        break;
    }
    return out;
  }

  // Nodes reachable from `from` without entering `avoid` (-1: none).
  std::vector<bool> Reach(int from, int avoid) const {
    std::vector<bool> seen(def_.nodes.size(), false);
    if (from < 0 || from == avoid) return seen;
    std::deque<int> queue = {from};
    seen[static_cast<size_t>(from)] = true;
    while (!queue.empty()) {
      int i = queue.front();
      queue.pop_front();
      for (int t : Successors(i)) {
        if (t == avoid || seen[static_cast<size_t>(t)]) continue;
        seen[static_cast<size_t>(t)] = true;
        queue.push_back(t);
      }
    }
    return seen;
  }

  void Analyse() {
    const size_t count = def_.nodes.size();
    // An end node with outcome approved.
    bool has_approved = false;
    for (const NodeDef& n : def_.nodes) {
      if (n.kind == NodeKind::kEnd && n.outcome == Outcome::kApproved) {
        has_approved = true;
      }
    }
    if (!has_approved) {
      r_.Error(nodes_loc_,
               "no end node with outcome approved — add "
               "{ id: approved, kind: end, outcome: approved } and "
               "lead the successful path to it");
    }
    if (start_ < 0) return;  // reported; nothing to analyse from

    // Reachability from start (only meaningful when every reference resolved).
    std::vector<bool> reached = Reach(start_, -1);
    if (!unresolved_) {
      for (size_t i = 0; i < count; ++i) {
        const NodeDef& n = def_.nodes[i];
        if (reached[i] || info_[i].implicit) continue;
        if (n.kind == NodeKind::kEnd &&
            (n.outcome == Outcome::kWithdrawn || n.outcome == Outcome::kCancelled)) {
          continue;  // entered by the withdraw/cancel actions, not by edges
        }
        r_.Error(n.loc, Describe(static_cast<int>(i)) +
                            " is unreachable from "
                            "start '" +
                            def_.start +
                            "' — lead a next/to/on_... to "
                            "it or remove it");
      }
    }

    // A way out: every reachable node must reach an end node. Broken nodes
    // count as fine, so that one typo does not report the whole graph.
    std::vector<std::vector<int>> preds(count);
    for (size_t i = 0; i < count; ++i) {
      for (int t : Successors(static_cast<int>(i))) {
        preds[static_cast<size_t>(t)].push_back(static_cast<int>(i));
      }
    }
    std::vector<bool> exits(count, false);
    std::deque<int> queue;
    for (size_t i = 0; i < count; ++i) {
      if (def_.nodes[i].kind == NodeKind::kEnd || info_[i].broken) {
        exits[i] = true;
        queue.push_back(static_cast<int>(i));
      }
    }
    while (!queue.empty()) {
      int i = queue.front();
      queue.pop_front();
      for (int p : preds[static_cast<size_t>(i)]) {
        if (exits[static_cast<size_t>(p)]) continue;
        exits[static_cast<size_t>(p)] = true;
        queue.push_back(p);
      }
    }
    for (size_t i = 0; i < count; ++i) {
      if (exits[i] || (!reached[i] && !unresolved_)) continue;
      r_.Error(def_.nodes[i].loc,
               Describe(static_cast<int>(i)) +
                   " has no path to an end node "
                   "— its successors only lead back into a loop; give the loop a "
                   "way out (e.g. to approved or rejected)");
    }

    // 退回 targets must lie earlier: the target leads to the node, and the
    // target is reached from start without passing the node.
    for (const ReturnCheck& rc : return_checks_) {
      const std::string from_id = def_.nodes[static_cast<size_t>(rc.from)].id;
      const std::string to_id = def_.nodes[static_cast<size_t>(rc.to)].id;
      if (InBranch(rc.from) && InBranch(rc.to)) {
        const Placement& a = placement_[static_cast<size_t>(rc.from)];
        const Placement& b = placement_[static_cast<size_t>(rc.to)];
        if (a.parallel == b.parallel && a.branch != b.branch) {
          r_.Error(rc.loc, "return_to: '" + to_id + "' runs in " + BranchName(rc.to) +
                               ", another line than '" + from_id +
                               "' — 退回 stays within the node's own "
                               "line or goes to a node before the parallel");
          continue;
        }
      }
      if (rc.from == rc.to) {
        r_.Error(rc.loc, "return_to of '" + from_id +
                             "' names the node itself "
                             "— 退回 goes to an earlier node (or to start, the "
                             "submitter)");
        continue;
      }
      bool earlier = rc.from != rc.to && Reach(rc.to, -1)[static_cast<size_t>(rc.from)] &&
                     Reach(start_, rc.from)[static_cast<size_t>(rc.to)];
      if (!earlier) {
        r_.Error(rc.loc, "return_to: '" + to_id + "' is not earlier than '" + from_id +
                             "' — 退回 only goes back to a node "
                             "that comes before this one (or to start, the "
                             "submitter)");
      }
    }
  }

  struct ReturnCheck {
    int from;
    int to;
    SourceLoc loc;
  };

  Reader r_;
  const Org& org_;
  const CheckRegistry& checks_;
  expr::TypeEnv env_;
  WorkflowDef def_;
  std::vector<NodeInfo> info_;        // parallel to def_.nodes
  std::vector<Placement> placement_;  // parallel to def_.nodes
  std::vector<ReturnCheck> return_checks_;
  SourceLoc start_loc_;
  SourceLoc nodes_loc_;
  int start_ = -1;
  bool unresolved_ = false;  // a reference named no node
};

}  // namespace

WorkflowLoad LoadWorkflow(std::string_view yaml_text, std::string_view file_name,
                          const Org& org, const CheckRegistry& checks) {
  return WorkflowLoader(yaml_text, file_name, org, checks).Run();
}

}  // namespace approvald
