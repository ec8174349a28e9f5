// Typed values of form fields, guard expressions and event attributes.
//
// A workflow's form declares each field's Type; the loader type-checks guard
// expressions against those declarations, and the engine validates submitted
// data against them. Values carry only their representation; the meaning of a
// string (text, enum option, person id, department id, attachment hash) comes
// from the Type it is checked against.
#ifndef APPROVALD_VALUE_H_
#define APPROVALD_VALUE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "approvald/types.h"

namespace approvald {

enum class TypeKind {
  kNull,        // only the type of the literal `null` / an absent optional field
  kBool,
  kInt,         // int64
  kMoney,       // integer fen
  kDate,
  kDateTime,
  kText,        // free text, max_length in characters (UTF-8 code points)
  kEnum,        // one of `options`
  kPerson,      // a PersonId of the organisation
  kDept,        // a DeptId of the organisation
  kAttachment,  // "sha256:<64 hex>" of an attachment stored by the daemon
  kList,        // homogeneous list of `element`
  kRecord,      // named fields, e.g. one invoice {number, amount, date}
};

struct FieldDef;

struct Type {
  TypeKind kind = TypeKind::kNull;
  std::vector<std::string> options;         // kEnum
  // kEnum: display labels, parallel to `options` (empty = show the option).
  // Not part of the type: operator== ignores them.
  std::vector<std::string> option_labels;     // Chinese
  std::vector<std::string> option_labels_en;  // English
  int max_length = 0;                       // kText; 0 = unlimited
  std::shared_ptr<const Type> element;      // kList
  std::shared_ptr<const std::vector<FieldDef>> fields;  // kRecord

  static Type Of(TypeKind k) { Type t; t.kind = k; return t; }
  static Type ListOf(Type element);
  // Human-readable: "money", "list<person>", "enum{a,b}",
  // "record{amount:money,number:text}".
  std::string ToString() const;
  // Structural equality: same kind; enum options equal in order; list
  // elements equal; record fields equal in order by name and type.
  // `max_length` is a validation bound on values, not part of the type's
  // identity, so text(20) == text(200).
  bool operator==(const Type& other) const;
};

// A form field declaration. `min`/`max` bound kInt (as integers) and kMoney
// (in fen); list sizes are bounded by `min_items`/`max_items`.
struct FieldDef {
  std::string name;
  std::string label;      // Chinese
  std::string label_en;   // English
  Type type;
  bool required = false;
  std::optional<int64_t> min;
  std::optional<int64_t> max;
  int min_items = 0;
  int max_items = 0;      // 0 = unlimited
  std::string help;
};

struct Value {
  using List = std::vector<Value>;
  using Record = std::map<std::string, Value>;
  std::variant<std::monostate, bool, int64_t, Money, Date, Timestamp,
               std::string, List, Record>
      v;

  Value() = default;
  static Value Null() { return Value(); }
  static Value Bool(bool b) { Value x; x.v = b; return x; }
  static Value Int(int64_t i) { Value x; x.v = i; return x; }
  static Value Of(Money m) { Value x; x.v = m; return x; }
  static Value Of(Date d) { Value x; x.v = d; return x; }
  static Value Of(Timestamp t) { Value x; x.v = t; return x; }
  static Value Str(std::string s) { Value x; x.v = std::move(s); return x; }
  static Value Of(List l) { Value x; x.v = std::move(l); return x; }
  static Value Of(Record r) { Value x; x.v = std::move(r); return x; }

  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
  bool is_bool() const { return std::holds_alternative<bool>(v); }
  bool is_int() const { return std::holds_alternative<int64_t>(v); }
  bool is_money() const { return std::holds_alternative<Money>(v); }
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  bool is_list() const { return std::holds_alternative<List>(v); }
  bool is_record() const { return std::holds_alternative<Record>(v); }

  // REQUIRES: the matching is_*() is true.
  bool as_bool() const { return std::get<bool>(v); }
  int64_t as_int() const { return std::get<int64_t>(v); }
  Money as_money() const { return std::get<Money>(v); }
  Date as_date() const { return std::get<Date>(v); }
  Timestamp as_timestamp() const { return std::get<Timestamp>(v); }
  const std::string& as_string() const { return std::get<std::string>(v); }
  const List& as_list() const { return std::get<List>(v); }
  const Record& as_record() const { return std::get<Record>(v); }

  bool operator==(const Value& o) const { return v == o.v; }
};

// Form data: field name -> value.
using FormData = std::map<std::string, Value>;

// Canonical text encoding of a value. Used in event payloads and in the
// audit leaf serialisation, so it never changes for existing data.
//
//   null                 null
//   bool                 true | false
//   int                  -?[0-9]+, no leading zeros, no "-0"
//   string               "..." with '"' and '\' backslash-escaped, U+0000..U+001F
//                        and U+007F as \u00xx (lower-case hex), all other
//                        characters as their UTF-8 bytes
//   Money                {"fen":N}
//   Date                 {"date":"YYYY-MM-DD"}; years outside 0000..9999 as
//                        ISO 8601 expanded years: "+12345-01-01", "-0001-12-31"
//   Timestamp            {"ts":N}  (UTC milliseconds)
//   List                 [a,b,c]
//   Record               {"k1":v1,"k2":v2}, keys in byte order (std::map's)
//
// A one-member object whose key is "fen", "date" or "ts" is the tagged
// scalar above. A Record that would look like one, i.e. whose only key is
// "fen", "date", "ts" or "record", is written wrapped as
// {"record":{...its members...}}; every other record (including {}) is
// written as a plain object. So every Value has exactly one encoding and
// every encoding one Value. No whitespace anywhere.
//
// Strings must be valid UTF-8 for the round trip to be exact: EncodeValue
// replaces each byte of an invalid sequence with U+FFFD (callers that accept
// text from outside check it first with IsValidUtf8).
std::string EncodeValue(const Value& v);

// The exact inverse of EncodeValue: returns the value whose encoding is
// exactly `text`, or nullopt for anything else (malformed JSON, whitespace,
// unsorted or duplicate keys, non-canonical escapes or numbers, integers
// beyond int64, invalid UTF-8, dates that do not exist, nesting deeper than
// kMaxValueDepth). Never crashes, whatever the input.
std::optional<Value> DecodeValue(std::string_view text);

// Lists and records nest at most this deep in decoded text (a top-level
// list or record is depth 1; money, dates and timestamps do not count);
// deeper values encode but do not decode.
inline constexpr int kMaxValueDepth = 64;

// True if `s` is well-formed UTF-8 (no overlong forms, no surrogates, no
// code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace approvald

#endif  // APPROVALD_VALUE_H_
