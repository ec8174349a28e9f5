#include "api/json_codec.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "core/workflow_loader.h"  // NodeKindName

namespace approvald::api {
namespace {

std::unexpected<Error> Bad(const std::string& path, const std::string& what) {
  return InvalidArgument("invalid_field", "field '" + path + "': " + what);
}

const char* KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "an integer";
    case json::kind::double_:
      return "a decimal number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// Reads an integer that fits in int64; refuses floats and huge numbers.
Result<int64_t> ReadInt(const json::value& v, const std::string& path,
                        const char* expected) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Bad(path, "number too large (at most 9223372036854775807)");
    }
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    return Bad(path, std::string("expected ") + expected +
                         ", got a decimal or out-of-range number");
  }
  return Bad(path, std::string("expected ") + expected + ", got " + KindName(v));
}

Result<std::string> ReadText(const json::value& v, const std::string& path,
                             const char* expected) {
  if (!v.is_string()) {
    return Bad(path, std::string("expected ") + expected + ", got " + KindName(v));
  }
  std::string s(v.get_string());
  // The parser refuses invalid UTF-8 in the body, but values may come from
  // elsewhere (tests, query strings); check here too.
  if (!IsValidUtf8(s)) return Bad(path, "text is not valid UTF-8");
  return s;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsAttachmentAddress(std::string_view s) {
  if (s.size() != 7 + 64 || !s.starts_with("sha256:")) return false;
  for (char c : s.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<Value> RecordFromJson(const json::value& v, const std::vector<FieldDef>& fields,
                             const std::string& path, FormMode mode) {
  if (!v.is_object()) return Bad(path, std::string("expected an object, got ") + KindName(v));
  const json::object& o = v.get_object();
  Value::Record out;
  for (const auto& kv : o) {
    std::string key(kv.key());
    std::string sub = path.empty() ? key : path + "." + key;
    const FieldDef* def = nullptr;
    for (const auto& f : fields) {
      if (f.name == key) def = &f;
    }
    if (def == nullptr) {
      std::string known;
      for (const auto& f : fields) known += (known.empty() ? "" : ", ") + f.name;
      return Bad(sub, "unknown field (known: " + known + ")");
    }
    if (kv.value().is_null()) {
      if (def->required && mode == FormMode::kComplete) return Bad(sub, "is required");
      continue;  // an absent optional field
    }
    auto value = FieldFromJson(kv.value(), def->type, sub);
    if (!value) return std::unexpected(value.error());
    out[key] = std::move(*value);
  }
  if (mode == FormMode::kComplete) {
    for (const auto& f : fields) {
      if (f.required && !out.count(f.name)) {
        return Bad(path.empty() ? f.name : path + "." + f.name, "is required");
      }
    }
  }
  return Value::Of(std::move(out));
}

Result<Value> AnyFromJson(const json::value& v, const std::string& path, int depth) {
  if (depth > kMaxJsonDepth) return Bad(path, "nested too deeply");
  switch (v.kind()) {
    case json::kind::bool_:
      return Value::Bool(v.get_bool());
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      auto i = ReadInt(v, path, "an integer");
      if (!i) return std::unexpected(i.error());
      return Value::Int(*i);
    }
    case json::kind::string: {
      auto s = ReadText(v, path, "a string");
      if (!s) return std::unexpected(s.error());
      return Value::Str(std::move(*s));
    }
    case json::kind::array: {
      Value::List list;
      size_t i = 0;
      for (const auto& e : v.get_array()) {
        auto x = AnyFromJson(e, path + "[" + std::to_string(i++) + "]", depth + 1);
        if (!x) return std::unexpected(x.error());
        list.push_back(std::move(*x));
      }
      return Value::Of(std::move(list));
    }
    case json::kind::object: {
      Value::Record rec;
      for (const auto& kv : v.get_object()) {
        std::string key(kv.key());
        auto x = AnyFromJson(kv.value(), path + "." + key, depth + 1);
        if (!x) return std::unexpected(x.error());
        rec[key] = std::move(*x);
      }
      return Value::Of(std::move(rec));
    }
    case json::kind::null:
      break;
  }
  return Bad(path, "null is not allowed here");
}

}  // namespace

Result<json::object> ParseJsonObject(std::string_view body) {
  return ParseJsonObject(body, json::storage_ptr());
}

Result<json::object> ParseJsonObject(std::string_view body, json::storage_ptr sp) {
  if (body.empty()) {
    return InvalidArgument("bad_json", "the request body is empty; send a JSON object");
  }
  json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  opts.allow_invalid_utf8 = false;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, std::move(sp), opts);
  if (ec) {
    std::string what = ec.message();
    if (ec == json::error::too_deep) {
      what = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    } else if (ec == json::error::syntax && !IsValidUtf8(body)) {
      what = "the body is not valid UTF-8";
    }
    return InvalidArgument("bad_json", "the request body is not valid JSON: " + what);
  }
  if (!v.is_object()) {
    return InvalidArgument("bad_json", std::string("the request body must be a JSON object, got ") +
                                           KindName(v));
  }
  return std::move(v.get_object());
}

std::string ToText(const json::value& v) { return json::serialize(v); }

void PutTime(json::object& o, std::string_view key, Timestamp t) {
  o[key] = FormatTimestampUtc(t);
  o[std::string(key) + "_local"] = FormatTimestampShanghai(t);
}

json::value ValueToJson(const Value& v) {
  return std::visit(
      [](const auto& x) -> json::value {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<X, bool>) {
          return x;
        } else if constexpr (std::is_same_v<X, int64_t>) {
          return x;
        } else if constexpr (std::is_same_v<X, Money>) {
          return x.fen;
        } else if constexpr (std::is_same_v<X, Date>) {
          return json::string(FormatDate(x));
        } else if constexpr (std::is_same_v<X, Timestamp>) {
          return json::string(FormatTimestampUtc(x));
        } else if constexpr (std::is_same_v<X, std::string>) {
          return json::string(x);
        } else if constexpr (std::is_same_v<X, Value::List>) {
          json::array a;
          for (const auto& e : x) a.push_back(ValueToJson(e));
          return a;
        } else {
          json::object o;
          for (const auto& [k, e] : x) o[k] = ValueToJson(e);
          return o;
        }
      },
      v.v);
}

Result<Value> FieldFromJson(const json::value& v, const Type& type, const std::string& path) {
  switch (type.kind) {
    case TypeKind::kNull:
      if (!v.is_null()) return Bad(path, "expected null");
      return Value::Null();
    case TypeKind::kBool:
      if (!v.is_bool()) return Bad(path, std::string("expected true or false, got ") + KindName(v));
      return Value::Bool(v.get_bool());
    case TypeKind::kInt: {
      auto i = ReadInt(v, path, "an integer");
      if (!i) return std::unexpected(i.error());
      return Value::Int(*i);
    }
    case TypeKind::kMoney: {
      auto i = ReadInt(v, path, "money as an integer number of fen (1234.50 yuan = 123450)");
      if (!i) return std::unexpected(i.error());
      return Value::Of(Money{*i});
    }
    case TypeKind::kDate: {
      auto s = ReadText(v, path, "a date \"YYYY-MM-DD\"");
      if (!s) return std::unexpected(s.error());
      auto d = ParseDate(*s);
      if (!d) return Bad(path, "'" + *s + "' is not a date YYYY-MM-DD");
      return Value::Of(*d);
    }
    case TypeKind::kDateTime: {
      auto s = ReadText(v, path, "a time \"YYYY-MM-DDTHH:MM:SSZ\"");
      if (!s) return std::unexpected(s.error());
      auto t = ParseTimestamp(*s);
      if (!t) return Bad(path, "'" + *s + "' is not an ISO 8601 time with a zone");
      return Value::Of(*t);
    }
    case TypeKind::kText: {
      auto s = ReadText(v, path, "text");
      if (!s) return std::unexpected(s.error());
      if (type.max_length > 0 && CodePoints(*s) > static_cast<size_t>(type.max_length)) {
        return Bad(path, "text longer than " + std::to_string(type.max_length) + " characters");
      }
      return Value::Str(std::move(*s));
    }
    case TypeKind::kEnum: {
      auto s = ReadText(v, path, "one of the options");
      if (!s) return std::unexpected(s.error());
      for (const auto& o : type.options) {
        if (o == *s) return Value::Str(std::move(*s));
      }
      std::string opts;
      for (const auto& o : type.options) opts += (opts.empty() ? "" : ", ") + o;
      return Bad(path, "'" + *s + "' is not one of: " + opts);
    }
    case TypeKind::kPerson:
    case TypeKind::kDept: {
      auto s = ReadText(v, path, type.kind == TypeKind::kPerson ? "a person id" : "a department id");
      if (!s) return std::unexpected(s.error());
      if (s->empty()) return Bad(path, "id must not be empty");
      return Value::Str(std::move(*s));
    }
    case TypeKind::kAttachment: {
      auto s = ReadText(v, path, "an attachment address \"sha256:<hex>\"");
      if (!s) return std::unexpected(s.error());
      if (!IsAttachmentAddress(*s)) {
        return Bad(path, "'" + *s + "' is not an attachment address sha256:<64 lowercase hex>");
      }
      return Value::Str(std::move(*s));
    }
    case TypeKind::kList: {
      if (!v.is_array()) return Bad(path, std::string("expected a list, got ") + KindName(v));
      Value::List out;
      size_t i = 0;
      for (const auto& e : v.get_array()) {
        std::string sub = path + "[" + std::to_string(i++) + "]";
        if (!type.element) return Bad(sub, "list has no element type");
        auto x = FieldFromJson(e, *type.element, sub);
        if (!x) return std::unexpected(x.error());
        out.push_back(std::move(*x));
      }
      return Value::Of(std::move(out));
    }
    case TypeKind::kRecord: {
      static const std::vector<FieldDef> kNone;
      return RecordFromJson(v, type.fields ? *type.fields : kNone, path, FormMode::kComplete);
    }
  }
  return Bad(path, "unsupported field type");
}

Result<FormData> FormFromJson(const json::value& data, const WorkflowDef& def, FormMode mode) {
  auto rec = RecordFromJson(data, def.form, "", mode);
  if (!rec) {
    Error e = rec.error();
    if (e.message.starts_with("field '': ")) {
      e.message = "'data' " + e.message.substr(10);
    }
    return std::unexpected(e);
  }
  return rec->as_record();
}

Result<Value::Record> ArgsFromJson(const json::object& args, const std::string& path) {
  Value::Record out;
  for (const auto& kv : args) {
    std::string key(kv.key());
    auto x = AnyFromJson(kv.value(), path.empty() ? key : path + "." + key, 1);
    if (!x) return std::unexpected(x.error());
    out[key] = std::move(*x);
  }
  return out;
}

json::value PersonJson(const Org& org, const PersonId& p) {
  if (p.empty()) return nullptr;
  json::object o;
  o["id"] = p.value;
  const Person* person = org.FindPerson(p);
  o["name"] = person ? person->name : p.value;
  o["name_en"] = person ? person->name_en : p.value;
  return o;
}

json::object EventToJson(const Event& e, const Org& org) {
  json::object o;
  o["instance"] = e.instance.value;
  o["version"] = e.version;
  o["type"] = e.type;
  PutTime(o, "at", e.at);
  o["actor"] = PersonJson(org, e.actor);
  o["on_behalf_of"] = PersonJson(org, e.on_behalf_of);
  o["node"] = e.node;
  o["comment"] = e.comment;
  o["data"] = ValueToJson(Value::Of(e.data));
  return o;
}

json::object InstanceRowToJson(const InstanceRow& row, const Org& org) {
  json::object o;
  o["id"] = row.id.value;
  o["workflow"] = row.workflow;
  o["workflow_version"] = row.workflow_version;
  o["status"] = row.status;
  o["submitter"] = PersonJson(org, row.submitter);
  o["title"] = row.title;
  o["amount"] = row.amount.fen;
  json::array nodes;
  std::string_view cur = row.current_nodes;
  while (!cur.empty()) {
    auto comma = cur.find(',');
    std::string_view n = cur.substr(0, comma);
    if (!n.empty()) nodes.push_back(json::string(n));
    if (comma == std::string_view::npos) break;
    cur.remove_prefix(comma + 1);
  }
  o["current_nodes"] = std::move(nodes);
  o["version"] = row.version;
  PutTime(o, "created_at", row.created_at);
  PutTime(o, "updated_at", row.updated_at);
  return o;
}

json::object TaskRowToJson(const TaskRow& t, const Org& org) {
  json::object o;
  o["instance"] = t.instance.value;
  o["node"] = t.node;
  o["person"] = PersonJson(org, t.person);
  o["kind"] = t.kind;
  PutTime(o, "since", t.since);
  return o;
}

json::object AuditEntryToJson(const AuditEntry& e) {
  json::object o;
  o["index"] = e.index;
  PutTime(o, "at", e.at);
  o["kind"] = e.kind;
  if (e.kind == "event") {
    o["instance"] = e.instance.value;
    o["version"] = e.version;
    o["def_hash"] = e.def_hash;
  }
  o["type"] = e.type;
  o["actor"] = e.actor.value;
  o["leaf_data"] = e.leaf_data;
  o["leaf_hash"] = HashHex(e.leaf_hash);
  return o;
}

json::value TypeToJson(const Type& t) {
  json::object o;
  o["type"] = t.ToString();
  switch (t.kind) {
    case TypeKind::kEnum: {
      json::array a;
      for (const auto& x : t.options) a.push_back(json::string(x));
      o["options"] = std::move(a);
      // Display labels, parallel to options; an empty or missing label means
      // "show the option id" (sent as the id, so clients need no fallback).
      json::array zh, en;
      for (size_t i = 0; i < t.options.size(); ++i) {
        const std::string* l = i < t.option_labels.size() ? &t.option_labels[i] : nullptr;
        const std::string* le = i < t.option_labels_en.size() ? &t.option_labels_en[i] : nullptr;
        zh.push_back(json::string(l && !l->empty() ? *l : t.options[i]));
        en.push_back(json::string(le && !le->empty() ? *le : t.options[i]));
      }
      o["option_labels"] = std::move(zh);
      o["option_labels_en"] = std::move(en);
      break;
    }
    case TypeKind::kText:
      if (t.max_length > 0) o["max_length"] = t.max_length;
      break;
    case TypeKind::kList:
      if (t.element) o["element"] = TypeToJson(*t.element);
      break;
    case TypeKind::kRecord: {
      json::array a;
      if (t.fields) {
        for (const auto& f : *t.fields) a.push_back(FieldDefToJson(f));
      }
      o["fields"] = std::move(a);
      break;
    }
    default:
      break;
  }
  return o;
}

json::object FieldDefToJson(const FieldDef& f) {
  json::object o;
  o["name"] = f.name;
  o["label"] = f.label;
  o["label_en"] = f.label_en;
  json::value type = TypeToJson(f.type);
  for (auto& kv : type.as_object()) o[kv.key()] = kv.value();
  o["required"] = f.required;
  if (f.min) o["min"] = *f.min;
  if (f.max) o["max"] = *f.max;
  if (f.min_items > 0) o["min_items"] = f.min_items;
  if (f.max_items > 0) o["max_items"] = f.max_items;
  if (!f.help.empty()) o["help"] = f.help;
  return o;
}


// ---- the instance view as a tree ----

namespace {

json::array PeopleJson(const std::vector<PersonId>& ps, const Org& org) {
  json::array a;
  for (const auto& p : ps) a.push_back(PersonJson(org, p));
  return a;
}

json::object SignerJson(const Signer& s, const Org& org) {
  json::object o;
  o["person"] = PersonJson(org, s.person);
  o["state"] = std::string(SignerStateName(s.state));
  o["added_by"] = PersonJson(org, s.added_by);
  o["added_how"] = s.added_how;
  o["delegate"] = PersonJson(org, s.delegate);
  o["acted_by"] = PersonJson(org, s.acted_by);
  o["comment"] = s.comment;
  return o;
}

// [{"person": {...}, field: text}, ...] for a map from person (id or its
// text) to a text, in the map's order.
template <class Map>
json::array PersonRowsJson(const Map& rows, const char* field, const Org& org) {
  json::array out;
  for (const auto& [p, text] : rows) {
    json::object r;
    r["person"] = PersonJson(org, PersonId(p));
    r[field] = text;
    out.push_back(std::move(r));
  }
  return out;
}

json::object MeetingJson(const MeetingState& m, const Org& org) {
  json::object o;
  o["members"] = PeopleJson(m.members, org);
  o["head"] = PersonJson(org, m.head);
  o["secretaries"] = PeopleJson(m.secretaries, org);
  o["distributed"] = m.distributed;
  if (m.distributed) PutTime(o, "distributed_at", m.distributed_at);
  o["receipts"] = PeopleJson(m.receipts, org);
  o["present"] = PeopleJson(m.present, org);
  o["recused"] = PersonRowsJson(m.recused, "reason", org);
  o["opened"] = m.opened;
  if (m.opened) PutTime(o, "opened_at", m.opened_at);
  o["opinions"] = PersonRowsJson(m.opinions, "opinion", org);
  o["votes"] = PersonRowsJson(m.votes, "option", org);
  return o;
}

}  // namespace

json::object InstanceViewJson(const InstanceViewRef& v, const Org& org) {
  json::object o = InstanceRowToJson(v.row, org);
  if (v.def) {
    o["workflow_title"] = v.def->title;
    o["workflow_title_en"] = v.def->title_en;
  }
  o["submitted_by"] = PersonJson(org, v.state.submitted_by);
  o["end_node"] = v.state.end_node;
  o["form"] = ValueToJson(Value::Of(v.state.form));
  json::array active;
  for (const auto& [id, t] : v.state.active) {
    json::object a;
    a["node"] = id;
    const NodeDef* nd = v.def ? v.def->FindNode(id) : nullptr;
    a["title"] = nd ? nd->title : id;
    a["title_en"] = nd ? nd->title_en : id;
    a["kind"] = nd ? std::string(NodeKindName(nd->kind)) : "";
    PutTime(a, "entered_at", t.entered_at);
    if (t.deadline) {
      PutTime(a, "deadline", *t.deadline);
    } else {
      a["deadline"] = nullptr;
    }
    json::array signers;
    for (const auto& s : t.signers) signers.push_back(SignerJson(s, org));
    a["signers"] = std::move(signers);
    if (nd && nd->kind == NodeKind::kMeeting) a["meeting"] = MeetingJson(t.meeting, org);
    a["results"] = ValueToJson(Value::Of(t.results));
    active.push_back(std::move(a));
  }
  o["active"] = std::move(active);
  json::array completed;
  for (const auto& n : v.state.completed) completed.push_back(json::string(n));
  o["completed"] = std::move(completed);
  o["cc"] = PeopleJson(v.state.cc, org);
  json::array actions;
  for (const auto& a : v.actions) {
    json::object x;
    x["action"] = a.action;
    x["node"] = a.node;
    actions.push_back(std::move(x));
  }
  o["actions"] = std::move(actions);
  o["replayed"] = v.replayed;
  return o;
}

// ---- the instance view written directly ----

namespace {

// Which bytes json::serialize escapes: control characters, '"' and '\\'.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

// Appends `s` escaped, without the quotes.
void AppendJsonChars(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* end = p + s.size();
  while (p != end) {
    // The run of bytes that need no escaping, copied at once.
    const char* run = p;
    while (p != end && !kEscaped[static_cast<unsigned char>(*p)]) ++p;
    out->append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    unsigned char c = static_cast<unsigned char>(*p++);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\t': *out += "\\t"; break;
      case '\n': *out += "\\n"; break;
      case '\f': *out += "\\f"; break;
      case '\r': *out += "\\r"; break;
      default:
        *out += "\\u00";
        *out += kHex[c >> 4];
        *out += kHex[c & 0xf];
    }
  }
}

// Days since 1970-01-01 to the proleptic Gregorian year, month and day
// (the civil-from-days algorithm: 400-year eras of 146097 days, years
// counted from March so that the leap day comes last).
void CivilOfDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  int64_t z = days + 719468;  // days since 0000-03-01
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);                        // [0, 146096]
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;     // [0, 399]
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                   // [0, 365]
  unsigned mp = (5 * doy + 2) / 153;                                        // [0, 11], 0 = March
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2 ? 1 : 0);
}

char* Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

// "YYYY-MM-DD" for years 0..9999; false (nothing written) otherwise.
bool PutDate(char* buf, int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilOfDays(days, &y, &m, &d);
  if (y < 0 || y > 9999) return false;
  auto yy = static_cast<unsigned>(y);
  char* p = Put2(buf, yy / 100);
  p = Put2(p, yy % 100);
  *p++ = '-';
  p = Put2(p, m);
  *p++ = '-';
  Put2(p, d);
  return true;
}

// The instant `t` shifted by `offset_ms` (less than a day), as whole days
// since the epoch and the millisecond of that day, without overflowing for
// any t (as FormatTimestampUtc does it).
void SplitDay(Timestamp t, int64_t offset_ms, int64_t* days, int64_t* rem) {
  *days = t.ms / kMsPerDay;
  *rem = t.ms % kMsPerDay;
  if (*rem < 0) {
    *rem += kMsPerDay;
    --*days;
  }
  *rem += offset_ms;
  if (*rem >= kMsPerDay) {
    *rem -= kMsPerDay;
    ++*days;
  }
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (iso) or "YYYY-MM-DD HH:MM:SS"; false if the
// year is outside 0..9999.
bool PutTimeText(char* buf, Timestamp t, int64_t offset_ms, bool iso, size_t* len) {
  int64_t days, rem;
  SplitDay(t, offset_ms, &days, &rem);
  if (!PutDate(buf, days)) return false;
  char* p = buf + 10;
  *p++ = iso ? 'T' : ' ';
  p = Put2(p, static_cast<unsigned>(rem / kMsPerHour));
  *p++ = ':';
  p = Put2(p, static_cast<unsigned>(rem / 60000 % 60));
  *p++ = ':';
  p = Put2(p, static_cast<unsigned>(rem / 1000 % 60));
  if (iso) {
    auto milli = static_cast<unsigned>(rem % 1000);
    *p++ = '.';
    *p++ = static_cast<char>('0' + milli / 100);
    p = Put2(p, milli % 100);
    *p++ = 'Z';
  }
  *len = static_cast<size_t>(p - buf);
  return true;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  *out += '"';
  AppendJsonChars(out, s);
  *out += '"';
}

void AppendTimestampUtc(std::string* out, Timestamp t) {
  char buf[32];
  size_t n = 0;
  if (PutTimeText(buf, t, 0, true, &n)) {
    out->append(buf, n);
  } else {
    *out += FormatTimestampUtc(t);
  }
}

void AppendTimestampShanghai(std::string* out, Timestamp t) {
  char buf[32];
  size_t n = 0;
  if (PutTimeText(buf, t, kShanghaiOffsetMs, false, &n)) {
    out->append(buf, n);
  } else {
    *out += FormatTimestampShanghai(t);
  }
}

void AppendDate(std::string* out, Date d) {
  char buf[10];
  if (PutDate(buf, d.days)) {
    out->append(buf, sizeof buf);
  } else {
    *out += FormatDate(d);
  }
}

// ---- the instance view ----

namespace {

// Appends JSON text by hand, byte for byte as json::serialize writes it:
// compact, members in the order written, strings escaped as Boost.JSON does.
// A view is a few hundred small pieces; instead of appending each to the
// string (a size check, a call, perhaps a reallocation per piece), the
// writer makes room once per piece, at least twice what it needs in a row,
// and writes through a pointer. The string is lengthened while the writer
// works and cut back to what was written when it goes.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(*out), pos_(out->size()) {
    Lengthen(std::max(out_.capacity(), pos_ + kMinRoom));
  }
  ~JsonWriter() { out_.resize(pos_); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void BeginObject() { Punct('{', false); }
  void EndObject() { Close('}'); }
  void BeginArray() { Punct('[', false); }
  void EndArray() { Close(']'); }
  // A key that needs no escaping: the names the API gives its members.
  void Field(std::string_view name) {
    char* p = Sep(Room(name.size() + 4));
    *p++ = '"';
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = '"';
    *p++ = ':';
    Done(p, false);
  }
  // Field(name + suffix).
  void Field(std::string_view name, std::string_view suffix) {
    char* p = Sep(Room(name.size() + suffix.size() + 4));
    *p++ = '"';
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    std::memcpy(p, suffix.data(), suffix.size());
    p += suffix.size();
    *p++ = '"';
    *p++ = ':';
    Done(p, false);
  }
  void Key(std::string_view k) {
    char* p = Sep(Room(k.size() * kMaxEscape + 4));
    *p++ = '"';
    p = Escape(p, k);
    *p++ = '"';
    *p++ = ':';
    Done(p, false);
  }
  void String(std::string_view s) {
    char* p = Sep(Room(s.size() * kMaxEscape + 3));
    *p++ = '"';
    p = Escape(p, s);
    *p++ = '"';
    Done(p, true);
  }
  // An instant as AppendTimestampUtc (iso) or AppendTimestampShanghai
  // writes it, quoted.
  void Time(Timestamp t, bool shanghai) {
    char* p = Sep(Room(40));
    *p++ = '"';
    size_t n = 0;
    if (PutTimeText(p, t, shanghai ? kShanghaiOffsetMs : 0, !shanghai, &n)) {
      p[n] = '"';
      return Done(p + n + 1, true);
    }
    Done(p, false);
    Plain(shanghai ? FormatTimestampShanghai(t) : FormatTimestampUtc(t));
    Punct('"', true, false);
  }
  // A date as AppendDate writes it, quoted.
  void DateText(Date d) {
    char* p = Sep(Room(16));
    *p++ = '"';
    if (PutDate(p, d.days)) {
      p[10] = '"';
      return Done(p + 11, true);
    }
    Done(p, false);
    Plain(FormatDate(d));
    Punct('"', true, false);
  }
  void Int(int64_t v) {
    char* p = Sep(Room(24));
    p = std::to_chars(p, p + 21, v).ptr;
    Done(p, true);
  }
  void Bool(bool b) { Word(b ? std::string_view("true") : std::string_view("false")); }
  void Null() { Word("null"); }
  // A value already serialised.
  void Raw(std::string_view text) { Word(text); }

 private:
  static constexpr size_t kMinRoom = 1024;
  static constexpr size_t kMaxEscape = 6;  // "\u00XX" for one byte

  // A pointer to at least `n` writable bytes at the end of what was written.
  char* Room(size_t n) {
    if (out_.size() - pos_ < n) Lengthen(std::max(out_.size() * 2, pos_ + n));
    return out_.data() + pos_;
  }
  // Lengthens the string to `n` bytes, the new ones left to be written
  // (not zeroed first: the writer writes each before the string is cut back
  // to what was written).
  void Lengthen(size_t n) {
    out_.resize_and_overwrite(n, [](char*, size_t len) { return len; });
  }
  char* Sep(char* p) {
    if (comma_) *p++ = ',';
    return p;
  }
  void Done(char* end, bool comma) {
    pos_ = static_cast<size_t>(end - out_.data());
    comma_ = comma;
  }
  // `c` after a separator if one is due (`sep`), then `comma` is the state.
  void Punct(char c, bool comma, bool sep = true) {
    char* p = Room(2);
    if (sep) p = Sep(p);
    *p++ = c;
    Done(p, comma);
  }
  void Close(char c) { Punct(c, true, false); }
  void Word(std::string_view w) {
    char* p = Sep(Room(w.size() + 1));
    std::memcpy(p, w.data(), w.size());
    Done(p + w.size(), true);
  }
  // `s` as it is (it needs no escaping), without a separator.
  void Plain(std::string_view s) {
    char* p = Room(s.size());
    std::memcpy(p, s.data(), s.size());
    Done(p + s.size(), comma_);
  }
  // Writes `s` escaped at `p` (room for kMaxEscape bytes per byte of `s`);
  // returns the end.
  static char* Escape(char* p, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    // Eight bytes at a time while none of them needs escaping.
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    auto has_below = [](uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kHigh; };
    while (s.size() >= 8) {
      uint64_t x;
      std::memcpy(&x, s.data(), 8);
      // A byte below 0x20, or equal to '"' or '\\' (x ^ c has a zero byte);
      // bytes of 0x80 and above never match. May match where no byte needs
      // escaping (a borrow): the bytes then go one by one below.
      if (has_below(x, 0x20) | has_below(x ^ (kOnes * '"'), 1) |
          has_below(x ^ (kOnes * '\\'), 1))
        break;
      std::memcpy(p, s.data(), 8);
      p += 8;
      s.remove_prefix(8);
    }
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      if (!kEscaped[c]) {
        *p++ = ch;
        continue;
      }
      *p++ = '\\';
      switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\b': *p++ = 'b'; break;
        case '\t': *p++ = 't'; break;
        case '\n': *p++ = 'n'; break;
        case '\f': *p++ = 'f'; break;
        case '\r': *p++ = 'r'; break;
        default:
          *p++ = 'u';
          *p++ = '0';
          *p++ = '0';
          *p++ = kHex[c >> 4];
          *p++ = kHex[c & 0xf];
      }
    }
    return p;
  }

  std::string& out_;
  size_t pos_;  // the end of what was written
  bool comma_ = false;
};

void WriteTime(JsonWriter& w, std::string_view key, Timestamp t) {
  w.Field(key);
  w.Time(t, false);
  w.Field(key, "_local");
  w.Time(t, true);
}

void WritePerson(JsonWriter& w, const Org& org, const PersonId& p) {
  if (p.empty()) return w.Null();
  const Person* person = org.FindPerson(p);
  w.BeginObject();
  w.Field("id");
  w.String(p.value);
  w.Field("name");
  w.String(person ? person->name : p.value);
  w.Field("name_en");
  w.String(person ? person->name_en : p.value);
  w.EndObject();
}

void WritePeople(JsonWriter& w, const Org& org, const std::vector<PersonId>& ps) {
  w.BeginArray();
  for (const auto& p : ps) WritePerson(w, org, p);
  w.EndArray();
}

void WriteValue(JsonWriter& w, const Value& v);

void WriteRecord(JsonWriter& w, const Value::Record& r) {
  w.BeginObject();
  for (const auto& [k, e] : r) {
    w.Key(k);
    WriteValue(w, e);
  }
  w.EndObject();
}

void WriteValue(JsonWriter& w, const Value& v) {
  std::visit(
      [&w](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>) {
          w.Null();
        } else if constexpr (std::is_same_v<X, bool>) {
          w.Bool(x);
        } else if constexpr (std::is_same_v<X, int64_t>) {
          w.Int(x);
        } else if constexpr (std::is_same_v<X, Money>) {
          w.Int(x.fen);
        } else if constexpr (std::is_same_v<X, Date>) {
          w.DateText(x);
        } else if constexpr (std::is_same_v<X, Timestamp>) {
          w.Time(x, false);
        } else if constexpr (std::is_same_v<X, std::string>) {
          w.String(x);
        } else if constexpr (std::is_same_v<X, Value::List>) {
          w.BeginArray();
          for (const auto& e : x) WriteValue(w, e);
          w.EndArray();
        } else {
          WriteRecord(w, x);
        }
      },
      v.v);
}

void WriteSigner(JsonWriter& w, const Signer& s, const Org& org) {
  w.BeginObject();
  w.Field("person");
  WritePerson(w, org, s.person);
  w.Field("state");
  w.String(SignerStateName(s.state));
  w.Field("added_by");
  WritePerson(w, org, s.added_by);
  w.Field("added_how");
  w.String(s.added_how);
  w.Field("delegate");
  WritePerson(w, org, s.delegate);
  w.Field("acted_by");
  WritePerson(w, org, s.acted_by);
  w.Field("comment");
  w.String(s.comment);
  w.EndObject();
}

// Pairs of (person, text) written as [{"person": ..., `text_key`: text}].
template <class Pairs>
void WritePersonTexts(JsonWriter& w, const Org& org, const Pairs& pairs,
                      std::string_view text_key) {
  w.BeginArray();
  for (const auto& [p, text] : pairs) {
    w.BeginObject();
    w.Field("person");
    if constexpr (std::is_same_v<std::decay_t<decltype(p)>, PersonId>) {
      WritePerson(w, org, p);
    } else {
      WritePerson(w, org, PersonId(p));
    }
    w.Field(text_key);
    w.String(text);
    w.EndObject();
  }
  w.EndArray();
}

void WriteMeeting(JsonWriter& w, const MeetingState& m, const Org& org) {
  w.BeginObject();
  w.Field("members");
  WritePeople(w, org, m.members);
  w.Field("head");
  WritePerson(w, org, m.head);
  w.Field("secretaries");
  WritePeople(w, org, m.secretaries);
  w.Field("distributed");
  w.Bool(m.distributed);
  if (m.distributed) WriteTime(w, "distributed_at", m.distributed_at);
  w.Field("receipts");
  WritePeople(w, org, m.receipts);
  w.Field("present");
  WritePeople(w, org, m.present);
  w.Field("recused");
  WritePersonTexts(w, org, m.recused, "reason");
  w.Field("opened");
  w.Bool(m.opened);
  if (m.opened) WriteTime(w, "opened_at", m.opened_at);
  w.Field("opinions");
  WritePersonTexts(w, org, m.opinions, "opinion");
  w.Field("votes");
  WritePersonTexts(w, org, m.votes, "option");
  w.EndObject();
}

void WriteInstanceRow(JsonWriter& w, const InstanceRow& row, const Org& org) {
  w.Field("id");
  w.Int(row.id.value);
  w.Field("workflow");
  w.String(row.workflow);
  w.Field("workflow_version");
  w.Int(row.workflow_version);
  w.Field("status");
  w.String(row.status);
  w.Field("submitter");
  WritePerson(w, org, row.submitter);
  w.Field("title");
  w.String(row.title);
  w.Field("amount");
  w.Int(row.amount.fen);
  w.Field("current_nodes");
  w.BeginArray();
  std::string_view cur = row.current_nodes;
  while (!cur.empty()) {
    auto comma = cur.find(',');
    std::string_view n = cur.substr(0, comma);
    if (!n.empty()) w.String(n);
    if (comma == std::string_view::npos) break;
    cur.remove_prefix(comma + 1);
  }
  w.EndArray();
  w.Field("version");
  w.Int(row.version);
  WriteTime(w, "created_at", row.created_at);
  WriteTime(w, "updated_at", row.updated_at);
}

}  // namespace

void AppendInstanceViewHead(std::string* out, const InstanceViewRef& v, const Org& org) {
  JsonWriter w(out);
  w.BeginObject();
  WriteInstanceRow(w, v.row, org);
  if (v.def) {
    w.Field("workflow_title");
    w.String(v.def->title);
    w.Field("workflow_title_en");
    w.String(v.def->title_en);
  }
  w.Field("submitted_by");
  WritePerson(w, org, v.state.submitted_by);
  w.Field("end_node");
  w.String(v.state.end_node);
  w.Field("form");
  WriteRecord(w, v.state.form);
  w.Field("active");
  w.BeginArray();
  for (const auto& [id, t] : v.state.active) {
    const NodeDef* nd = v.def ? v.def->FindNode(id) : nullptr;
    w.BeginObject();
    w.Field("node");
    w.String(id);
    w.Field("title");
    w.String(nd ? nd->title : id);
    w.Field("title_en");
    w.String(nd ? nd->title_en : id);
    w.Field("kind");
    w.String(nd ? NodeKindName(nd->kind) : std::string_view());
    WriteTime(w, "entered_at", t.entered_at);
    if (t.deadline) {
      WriteTime(w, "deadline", *t.deadline);
    } else {
      w.Field("deadline");
      w.Null();
    }
    w.Field("signers");
    w.BeginArray();
    for (const auto& s : t.signers) WriteSigner(w, s, org);
    w.EndArray();
    if (nd && nd->kind == NodeKind::kMeeting) {
      w.Field("meeting");
      WriteMeeting(w, t.meeting, org);
    }
    w.Field("results");
    WriteRecord(w, t.results);
    w.EndObject();
  }
  w.EndArray();
  w.Field("completed");
  w.BeginArray();
  for (const auto& n : v.state.completed) w.String(n);
  w.EndArray();
  w.Field("cc");
  WritePeople(w, org, v.state.cc);
  w.Field("actions");
}

void AppendInstanceViewTail(std::string* out, const std::vector<AvailableAction>& actions,
                            bool replayed, const json::object& attachment_names) {
  // The head ends with a key: the writer's state is that of a fresh one.
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& a : actions) {
    w.BeginObject();
    w.Field("action");
    w.String(a.action);
    w.Field("node");
    w.String(a.node);
    w.EndObject();
  }
  w.EndArray();
  w.Field("replayed");
  w.Bool(replayed);
  w.Field("attachment_names");
  w.BeginObject();
  for (const auto& [hash, name] : attachment_names) {
    w.Key(hash);
    w.Raw(json::serialize(name));
  }
  w.EndObject();
  w.EndObject();
}

void AppendInstanceViewJson(std::string* out, const InstanceViewRef& v, const Org& org,
                            const json::object& attachment_names) {
  AppendInstanceViewHead(out, v, org);
  AppendInstanceViewTail(out, v.actions, v.replayed, attachment_names);
}

std::string InstanceViewBody(const InstanceViewRef& v, const Org& org,
                             const json::object& attachment_names) {
  std::string body;
  body.reserve(4096);
  AppendInstanceViewJson(&body, v, org, attachment_names);
  return body;
}

std::string HashHex(const Hash& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * h.size(), '\0');
  char* p = out.data();
  for (uint8_t b : h) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 15];
  }
  return out;
}

bool ParseHashHex(std::string_view text, Hash* out) {
  if (text.size() != 64) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nib(text[2 * i]), lo = nib(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace approvald::api
