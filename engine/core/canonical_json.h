// Internal helpers for the canonical JSON text of values and events
// (value.cc, event.cc). Not a general JSON library: the reader accepts only
// what the writer produces, spelled as the writer spells it, so text it
// accepts is byte for byte the canonical encoding of what it returns (no
// whitespace, no leading zeros or "-0", no escape the writer would not write,
// keys strictly ascending, tagged scalars and wrapped records only where the
// writer makes them). The property tests in value_test.cc and event_test.cc
// hold it to that.
#ifndef APPROVALD_CORE_CANONICAL_JSON_H_
#define APPROVALD_CORE_CANONICAL_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "approvald/value.h"

namespace approvald::canonical {

// Appends `s` as a JSON string literal: '"' and '\' are backslash-escaped,
// U+0000..U+001F and U+007F become \u00xx (lower-case hex), every other byte
// of valid UTF-8 is copied. Each byte that is not part of a valid UTF-8
// sequence is replaced by U+FFFD.
void AppendString(std::string* out, std::string_view s);

// Appends the canonical encoding of `v` (see value.h).
void AppendValue(std::string* out, const Value& v);
// Appends the canonical encoding of the record `r`: exactly what
// AppendValue(out, Value::Of(r)) appends, without copying `r` into a Value.
void AppendRecord(std::string* out, const Value::Record& r);

// A position in text being decoded.
struct Reader {
  std::string_view text;
  size_t pos = 0;

  bool AtEnd() const { return pos >= text.size(); }
  // Consumes `c` if it is next.
  bool Consume(char c);
  // Consumes `word` if it comes next.
  bool ConsumeWord(std::string_view word);
  // Reads a JSON string literal as AppendString writes it: bytes that stand
  // for themselves taken as they are, \" and \\, and \u00xx (lower-case
  // hex) for U+0000..U+001F and U+007F only. Fails on anything else: other
  // escapes, raw control characters or DEL, invalid UTF-8.
  bool ReadString(std::string* out);
  // Reads an optionally negative decimal integer that fits in int64_t,
  // spelled as std::to_chars spells it (no leading zero, no "-0").
  bool ReadInt(int64_t* out);
  // Reads one value; `depth` is the nesting level of the caller (0 at the
  // top). Fails when lists and records nest beyond kMaxValueDepth.
  bool ReadValue(Value* out, int depth);

 private:
  // JSON nesting the raw reader allows: every value level may be a wrapped
  // record (two JSON objects), plus one object for a tagged scalar.
  static constexpr int kMaxRawDepth = 2 * kMaxValueDepth + 1;

  // Phase 1: reads JSON into a raw tree (objects become records, nothing is
  // interpreted), checking syntax, key order and JSON nesting.
  bool ReadRaw(Value* out, int raw_depth);
  // Phase 2: turns a raw tree, in place, into the value it encodes (tagged
  // scalars, wrapped records), checking the value nesting limit. On failure
  // `*v` is left partly interpreted and must be discarded.
  static bool Interpret(Value* v, int depth);
  // The members of the raw record `*record`, one nesting level down.
  static bool InterpretMembers(Value* record, int depth);
};

}  // namespace approvald::canonical

#endif  // APPROVALD_CORE_CANONICAL_JSON_H_
