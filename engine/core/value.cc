// Types and the canonical value encoding (value.h).
//
// Decoding runs in two phases so that no byte is read twice: a small
// recursive-descent reader for the JSON subset the writer produces turns the
// text into a raw tree (objects as records, nothing interpreted), then
// Interpret() resolves tagged scalars and wrapped records, for which it
// needs to know how many members an object has. Both phases accept only
// the writer's own spelling of each part (canonical_json.h), so the only text
// DecodeValue accepts for a value is that value's canonical encoding, without
// encoding it again to compare.
#include "approvald/value.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "approvald/utf8.h"
#include "core/canonical_json.h"

namespace approvald {

Type Type::ListOf(Type element) {
  Type t;
  t.kind = TypeKind::kList;
  t.element = std::make_shared<const Type>(std::move(element));
  return t;
}

std::string Type::ToString() const {
  switch (kind) {
    case TypeKind::kNull:
      return "null";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt:
      return "int";
    case TypeKind::kMoney:
      return "money";
    case TypeKind::kDate:
      return "date";
    case TypeKind::kDateTime:
      return "datetime";
    case TypeKind::kText:
      return "text";
    case TypeKind::kEnum: {
      std::string s = "enum{";
      for (size_t i = 0; i < options.size(); ++i) {
        if (i > 0) s += ',';
        s += options[i];
      }
      return s + "}";
    }
    case TypeKind::kPerson:
      return "person";
    case TypeKind::kDept:
      return "dept";
    case TypeKind::kAttachment:
      return "attachment";
    case TypeKind::kList:
      return "list<" + (element ? element->ToString() : std::string("?")) + ">";
    case TypeKind::kRecord: {
      std::string s = "record{";
      if (fields) {
        for (size_t i = 0; i < fields->size(); ++i) {
          if (i > 0) s += ',';
          s += (*fields)[i].name + ":" + (*fields)[i].type.ToString();
        }
      }
      return s + "}";
    }
  }
  return "?";
}

bool Type::operator==(const Type& other) const {
  if (kind != other.kind) return false;
  switch (kind) {
    case TypeKind::kEnum:
      return options == other.options;
    case TypeKind::kList:
      if (!element || !other.element) return element == other.element;
      return *element == *other.element;
    case TypeKind::kRecord: {
      static const std::vector<FieldDef> kNone;
      const auto& a = fields ? *fields : kNone;
      const auto& b = other.fields ? *other.fields : kNone;
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || !(a[i].type == b[i].type)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// ISO 8601 date with expanded years outside 0000..9999.
void AppendDate(std::string* out, Date d) {
  int year;
  unsigned month, day;
  CivilFromDate(d, &year, &month, &day);
  char buf[32];
  if (year >= 0 && year <= 9999) {
    buf[0] = static_cast<char>('0' + year / 1000);
    buf[1] = static_cast<char>('0' + year / 100 % 10);
    buf[2] = static_cast<char>('0' + year / 10 % 10);
    buf[3] = static_cast<char>('0' + year % 10);
    out->append(buf, 4);
  } else {
    out->push_back(year < 0 ? '-' : '+');
    int64_t abs_year = year < 0 ? -int64_t{year} : int64_t{year};
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, abs_year);
    for (ptrdiff_t pad = 4 - (end - buf); pad > 0; --pad) out->push_back('0');
    out->append(buf, end);
  }
  out->push_back('-');
  out->push_back(static_cast<char>('0' + month / 10));
  out->push_back(static_cast<char>('0' + month % 10));
  out->push_back('-');
  out->push_back(static_cast<char>('0' + day / 10));
  out->push_back(static_cast<char>('0' + day % 10));
}

// Exact inverse of AppendDate: takes only its spelling (the expanded form
// only for years outside 0000..9999, zero padded to four digits and no
// further). Refuses days that do not exist and dates outside Date's range.
std::optional<Date> ParseExpandedDate(std::string_view s) {
  if (s.size() == 10) return ParseDate(s);
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  bool negative = s[0] == '-';
  size_t dash = s.find('-', 1);
  if (dash == std::string_view::npos || dash < 5 || dash > 8) return std::nullopt;
  int64_t year = 0;
  for (size_t i = 1; i < dash; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    year = year * 10 + (s[i] - '0');
  }
  if (negative) year = -year;
  if (year >= 0 && year <= 9999) return std::nullopt;  // written plain
  if (dash > 5 && s[1] == '0') return std::nullopt;    // padded beyond four digits
  // Re-use ParseDate's month/day validation on a stand-in year with the same
  // leap-year status (the Gregorian cycle is 400 years).
  std::string_view rest = s.substr(dash);  // "-MM-DD"
  if (rest.size() != 6) return std::nullopt;
  int64_t stand_in = ((year % 400) + 400) % 400 + 2000;
  std::string probe = std::to_string(stand_in);
  probe.append(rest);
  auto check = ParseDate(probe);
  if (!check) return std::nullopt;
  unsigned month = static_cast<unsigned>((rest[1] - '0') * 10 + (rest[2] - '0'));
  unsigned day = static_cast<unsigned>((rest[4] - '0') * 10 + (rest[5] - '0'));
  // Date holds int32 days: about +-5.8 million years. Check in years first
  // so DateFromCivil's int arithmetic cannot overflow, then exactly.
  if (year > 5'900'000 || year < -5'900'000) return std::nullopt;
  int64_t days = int64_t{DateFromCivil(1970, 1, 1).days};
  {
    // Days from civil in 64-bit arithmetic.
    int64_t y = year - (month <= 2 ? 1 : 0);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
  }
  if (days > std::numeric_limits<int32_t>::max() ||
      days < std::numeric_limits<int32_t>::min())
    return std::nullopt;
  return Date{static_cast<int32_t>(days)};
}

bool IsReservedRecordKey(const std::string& key) {
  return key == "fen" || key == "date" || key == "ts" || key == "record";
}

void AppendMembers(std::string* out, const Value::Record& r) {
  out->push_back('{');
  bool first = true;
  for (const auto& [key, value] : r) {
    if (!first) out->push_back(',');
    first = false;
    canonical::AppendString(out, key);
    out->push_back(':');
    canonical::AppendValue(out, value);
  }
  out->push_back('}');
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace canonical {

namespace {

// The end of the run of bytes from `i` that stand for themselves in a string
// literal: printable ASCII but '"' and '\\', and valid UTF-8 sequences. The
// writer copies such a run at once; the reader takes exactly such runs.
size_t LiteralRun(std::string_view s, size_t i) {
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\' || c < 0x20 || c == 0x7F) break;
      ++i;
    } else {
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) break;
      i += n;
    }
  }
  return i;
}

// True for the characters the writer spells \u00xx.
bool EscapedAsUnicode(unsigned c) { return c < 0x20 || c == 0x7F; }

}  // namespace

void AppendString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t end = LiteralRun(s, i);
    out->append(s.data() + i, end - i);
    i = end;
    if (i == s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (EscapedAsUnicode(c)) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    } else {
      out->append("\xEF\xBF\xBD");  // U+FFFD for a byte of no valid sequence
    }
    ++i;
  }
  out->push_back('"');
}

void AppendValue(std::string* out, const Value& v) {
  struct Visitor {
    std::string* out;
    void operator()(std::monostate) const { out->append("null"); }
    void operator()(bool b) const { out->append(b ? "true" : "false"); }
    void operator()(int64_t i) const { AppendInt(out, i); }
    void operator()(Money m) const {
      out->append("{\"fen\":");
      AppendInt(out, m.fen);
      out->push_back('}');
    }
    void operator()(Date d) const {
      out->append("{\"date\":\"");
      AppendDate(out, d);
      out->append("\"}");
    }
    void operator()(Timestamp t) const {
      out->append("{\"ts\":");
      AppendInt(out, t.ms);
      out->push_back('}');
    }
    void operator()(const std::string& s) const { AppendString(out, s); }
    void operator()(const Value::List& l) const {
      out->push_back('[');
      for (size_t i = 0; i < l.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendValue(out, l[i]);
      }
      out->push_back(']');
    }
    void operator()(const Value::Record& r) const { AppendRecord(out, r); }
  };
  std::visit(Visitor{out}, v.v);
}

void AppendRecord(std::string* out, const Value::Record& r) {
  bool wrap = r.size() == 1 && IsReservedRecordKey(r.begin()->first);
  if (wrap) out->append("{\"record\":");
  AppendMembers(out, r);
  if (wrap) out->push_back('}');
}

bool Reader::Consume(char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

bool Reader::ConsumeWord(std::string_view word) {
  if (text.substr(pos, word.size()) == word) {
    pos += word.size();
    return true;
  }
  return false;
}

bool Reader::ReadString(std::string* out) {
  if (!Consume('"')) return false;
  out->clear();
  for (;;) {
    size_t end = LiteralRun(text, pos);
    out->append(text.data() + pos, end - pos);
    pos = end;
    if (pos >= text.size()) return false;
    char c = text[pos];
    if (c == '"') {
      ++pos;
      return true;
    }
    // Anything else that ends a run is written escaped: a raw control
    // character, DEL or invalid UTF-8 is not canonical.
    if (c != '\\' || pos + 1 >= text.size()) return false;
    char e = text[pos + 1];
    if (e == '"' || e == '\\') {
      out->push_back(e);
      pos += 2;
      continue;
    }
    if (e != 'u' || pos + 6 > text.size() || text[pos + 2] != '0' || text[pos + 3] != '0')
      return false;
    unsigned code = 0;
    for (size_t k = pos + 4; k < pos + 6; ++k) {
      char h = text[k];
      unsigned digit;
      if (h >= '0' && h <= '9') {
        digit = static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        digit = static_cast<unsigned>(h - 'a' + 10);
      } else {
        return false;  // upper-case hex is not canonical
      }
      code = code * 16 + digit;
    }
    // Only what the writer escapes this way: \u0041 for "A" is not canonical.
    if (!EscapedAsUnicode(code)) return false;
    out->push_back(static_cast<char>(code));
    pos += 6;
  }
}

bool Reader::ReadInt(int64_t* out) {
  size_t start = pos;
  if (pos < text.size() && text[pos] == '-') ++pos;
  size_t digits = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  if (pos == digits) return false;
  // As to_chars writes: no leading zero, no "-0".
  if (text[digits] == '0' && (pos - digits > 1 || digits > start)) return false;
  auto [end, ec] = std::from_chars(text.data() + start, text.data() + pos, *out);
  return ec == std::errc() && end == text.data() + pos;
}

bool Reader::ReadRaw(Value* out, int raw_depth) {
  // Each value is built where it ends up (`*out`, a list's new element, a
  // record's new member): nothing is moved after it is read.
  if (pos >= text.size()) return false;
  char c = text[pos];
  if (c == 'n') {
    out->v.emplace<std::monostate>();
    return ConsumeWord("null");
  }
  if (c == 't') {
    out->v.emplace<bool>(true);
    return ConsumeWord("true");
  }
  if (c == 'f') {
    out->v.emplace<bool>(false);
    return ConsumeWord("false");
  }
  if (c == '"') return ReadString(&out->v.emplace<std::string>());
  if (c == '-' || (c >= '0' && c <= '9')) return ReadInt(&out->v.emplace<int64_t>());
  if (c != '[' && c != '{') return false;
  // A wrapped record takes two JSON levels; a tagged scalar one more.
  if (raw_depth + 1 > kMaxRawDepth) return false;
  ++pos;
  if (c == '[') {
    auto& list = out->v.emplace<Value::List>();
    if (Consume(']')) return true;
    for (;;) {
      if (!ReadRaw(&list.emplace_back(), raw_depth + 1)) return false;
      if (Consume(']')) return true;
      if (!Consume(',')) return false;
    }
  }
  auto& members = out->v.emplace<Value::Record>();
  if (Consume('}')) return true;
  std::string key;
  for (;;) {
    if (!ReadString(&key) || !Consume(':')) return false;
    // Keys must be strictly ascending: no duplicates, canonical order.
    if (!members.empty() && !(members.rbegin()->first < key)) return false;
    auto member = members.emplace_hint(members.end(), std::move(key), Value());
    if (!ReadRaw(&member->second, raw_depth + 1)) return false;
    if (Consume('}')) return true;
    if (!Consume(',')) return false;
  }
}

bool Reader::Interpret(Value* v, int depth) {
  if (v->is_list()) {
    if (depth + 1 > kMaxValueDepth) return false;
    for (Value& element : std::get<Value::List>(v->v)) {
      if (!Interpret(&element, depth + 1)) return false;
    }
    return true;
  }
  if (!v->is_record()) return true;
  auto& members = std::get<Value::Record>(v->v);
  if (members.size() == 1 && IsReservedRecordKey(members.begin()->first)) {
    const std::string& tag = members.begin()->first;
    Value& member = members.begin()->second;
    if (tag == "fen" && member.is_int()) {
      *v = Value::Of(Money{member.as_int()});
      return true;
    }
    if (tag == "ts" && member.is_int()) {
      *v = Value::Of(Timestamp{member.as_int()});
      return true;
    }
    if (tag == "date" && member.is_string()) {
      auto d = ParseExpandedDate(member.as_string());
      if (!d) return false;
      *v = Value::Of(*d);
      return true;
    }
    if (tag == "record" && member.is_record()) {
      // The wrapper of a record that would otherwise look like the above;
      // only such records are ever written wrapped.
      auto& inner = std::get<Value::Record>(member.v);
      if (inner.size() != 1 || !IsReservedRecordKey(inner.begin()->first)) return false;
      Value unwrapped = std::move(member);  // out of the wrapper before it is replaced
      *v = std::move(unwrapped);
      return InterpretMembers(v, depth);
    }
    // Anything else of this shape would have been written wrapped.
    return false;
  }
  return InterpretMembers(v, depth);
}

bool Reader::InterpretMembers(Value* record, int depth) {
  if (depth + 1 > kMaxValueDepth) return false;
  for (auto& [key, member] : std::get<Value::Record>(record->v)) {
    if (!Interpret(&member, depth + 1)) return false;
  }
  return true;
}

bool Reader::ReadValue(Value* out, int depth) {
  if (!ReadRaw(out, 0)) return false;
  return Interpret(out, depth);
}

}  // namespace canonical

std::string EncodeValue(const Value& v) {
  std::string out;
  canonical::AppendValue(&out, v);
  return out;
}

std::optional<Value> DecodeValue(std::string_view text) {
  canonical::Reader reader{text};
  Value v;
  // The reader takes only canonical spellings, so what it accepts is the
  // canonical text of what it returns.
  if (!reader.ReadValue(&v, 0) || !reader.AtEnd()) return std::nullopt;
  return v;
}

}  // namespace approvald
