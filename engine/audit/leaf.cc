// Canonical leaf bytes. The fixed prefixes below are part of the format
// (docs/AUDIT.md); they are compared byte-for-byte when parsing.
#include "audit/leaf.h"

#include "core/canonical_json.h"

namespace approvald::audit {
namespace {

constexpr std::string_view kEventPrefix = R"({"kind":"event","v":1,"def_hash":)";
constexpr std::string_view kEventMiddle = R"(,"event":)";
constexpr std::string_view kRecordPrefix = R"({"kind":"record","v":1,"record":)";

// The record's members as a Value record: std::map orders the keys
// (actor, at, data, subject, type), and five members can never look like a
// tagged scalar, so EncodeValue writes a plain object.
Value RecordValue(const AuditRecord& r) {
  Value::Record rec;
  rec.emplace("actor", Value::Str(r.actor.value));
  rec.emplace("at", Value::Int(r.at.ms));
  rec.emplace("data", Value::Of(r.data));
  rec.emplace("subject", Value::Str(r.subject));
  rec.emplace("type", Value::Str(r.type));
  return Value::Of(std::move(rec));
}

// Length of the JSON string literal at the start of `s` (quotes included),
// or 0 if `s` does not start with a complete one.
size_t StringLiteralLength(std::string_view s) {
  if (s.empty() || s[0] != '"') return 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return 0;
}

// The parts of an event leaf: the definition hash's string literal (quotes
// included) and the event member, as they stand in `data`; nullopt if
// `data` is not shaped like one (nothing is decoded).
struct EventLeafParts {
  std::string_view def_hash_literal;
  std::string_view event;
};
std::optional<EventLeafParts> SplitEventLeaf(std::string_view data) {
  if (!data.starts_with(kEventPrefix) || !data.ends_with('}')) return std::nullopt;
  std::string_view rest = data.substr(kEventPrefix.size());
  size_t len = StringLiteralLength(rest);
  if (len == 0) return std::nullopt;
  EventLeafParts parts;
  parts.def_hash_literal = rest.substr(0, len);
  rest.remove_prefix(len);
  // The middle, at least one byte of event, and the closing '}'.
  if (!rest.starts_with(kEventMiddle) || rest.size() < kEventMiddle.size() + 2)
    return std::nullopt;
  rest.remove_prefix(kEventMiddle.size());
  rest.remove_suffix(1);  // the leaf's closing '}'
  parts.event = rest;
  return parts;
}

const Value* Member(const Value::Record& r, const char* key) {
  auto it = r.find(key);
  return it == r.end() ? nullptr : &it->second;
}

}  // namespace

std::string EventLeafData(const Event& e, std::string_view def_hash) {
  return EventLeafDataOfEncoded(EncodeEvent(e), def_hash);
}

std::string EventLeafDataOfEncoded(std::string_view encoded_event,
                                   std::string_view def_hash) {
  // The definition hash is written as EncodeValue writes a string, straight
  // into the leaf: one block, sized for a hash that needs no escapes.
  std::string out;
  out.reserve(kEventPrefix.size() + def_hash.size() + 2 + kEventMiddle.size() +
              encoded_event.size() + 1);
  out.append(kEventPrefix);
  canonical::AppendString(&out, def_hash);
  out.append(kEventMiddle).append(encoded_event);
  out.push_back('}');
  return out;
}

std::string RecordLeafData(const AuditRecord& r) {
  std::string out(kRecordPrefix);
  out.append(EncodeValue(RecordValue(r)));
  out.push_back('}');
  return out;
}

std::string_view LeafKindOf(std::string_view data) {
  if (data.starts_with(kEventPrefix)) return kEventLeafKind;
  if (data.starts_with(kRecordPrefix)) return kRecordLeafKind;
  return {};
}

std::optional<std::string_view> EventBytesOfLeaf(std::string_view data) {
  auto parts = SplitEventLeaf(data);
  if (!parts) return std::nullopt;
  return parts->event;
}

std::optional<ParsedLeaf> ParseLeaf(std::string_view data) {
  if (data.size() < 2 || data.back() != '}') return std::nullopt;
  ParsedLeaf leaf;
  if (data.starts_with(kEventPrefix)) {
    auto parts = SplitEventLeaf(data);
    if (!parts) return std::nullopt;
    auto hash = DecodeValue(parts->def_hash_literal);
    if (!hash || !hash->is_string()) return std::nullopt;
    auto event = DecodeEvent(parts->event);
    if (!event) return std::nullopt;
    leaf.kind = kEventLeafKind;
    leaf.def_hash = hash->as_string();
    leaf.event = std::move(*event);
    // DecodeValue and DecodeEvent accept only canonical text, so the parts
    // re-encode to themselves; this check makes the whole leaf strict too.
    if (EventLeafData(*leaf.event, leaf.def_hash) != data) return std::nullopt;
    return leaf;
  }
  if (data.starts_with(kRecordPrefix)) {
    std::string_view body = data.substr(kRecordPrefix.size());
    body.remove_suffix(1);
    auto value = DecodeValue(body);
    if (!value || !value->is_record()) return std::nullopt;
    const Value::Record& r = value->as_record();
    const Value* actor = Member(r, "actor");
    const Value* at = Member(r, "at");
    const Value* payload = Member(r, "data");
    const Value* subject = Member(r, "subject");
    const Value* type = Member(r, "type");
    if (r.size() != 5 || !actor || !actor->is_string() || !at || !at->is_int() ||
        !payload || !payload->is_record() || !subject || !subject->is_string() || !type ||
        !type->is_string()) {
      return std::nullopt;
    }
    AuditRecord rec;
    rec.actor = PersonId(actor->as_string());
    rec.at = Timestamp{at->as_int()};
    rec.data = payload->as_record();
    rec.subject = subject->as_string();
    rec.type = type->as_string();
    leaf.kind = kRecordLeafKind;
    leaf.record = std::move(rec);
    if (RecordLeafData(*leaf.record) != data) return std::nullopt;
    return leaf;
  }
  return std::nullopt;
}

}  // namespace approvald::audit
