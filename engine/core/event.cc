// Canonical event serialisation (event.h). The audit log hashes these bytes,
// so the format below must never change for existing events:
//
//   {"actor":S,"at":N,"comment":S,"data":V,"instance":N,"node":S,
//    "on_behalf_of":S,"type":S,"version":N}
//
// (on one line, no whitespace). Every key is always present, in this
// (alphabetical) order. S is a JSON string written as EncodeValue writes
// strings; N a decimal int64; V is EncodeValue of `data` as a record, so a
// data record whose only key is "fen", "date", "ts" or "record" appears
// wrapped as {"record":{...}} (value.h).
#include "approvald/event.h"

#include <charconv>

#include "core/canonical_json.h"

namespace approvald {

namespace {

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

}  // namespace

std::string EncodeEvent(const Event& e) {
  // Room for the usual event in one block: the members' names and scalars
  // take about 160 bytes, a step's data (signers, a line's state) most of
  // the rest.
  std::string out;
  out.reserve(512 + e.comment.size());
  out.append("{\"actor\":");
  canonical::AppendString(&out, e.actor.value);
  out.append(",\"at\":");
  AppendInt(&out, e.at.ms);
  out.append(",\"comment\":");
  canonical::AppendString(&out, e.comment);
  out.append(",\"data\":");
  canonical::AppendRecord(&out, e.data);
  out.append(",\"instance\":");
  AppendInt(&out, e.instance.value);
  out.append(",\"node\":");
  canonical::AppendString(&out, e.node);
  out.append(",\"on_behalf_of\":");
  canonical::AppendString(&out, e.on_behalf_of.value);
  out.append(",\"type\":");
  canonical::AppendString(&out, e.type);
  out.append(",\"version\":");
  AppendInt(&out, e.version);
  out.push_back('}');
  return out;
}

std::optional<Event> DecodeEvent(std::string_view text) {
  canonical::Reader r{text};
  Event e;
  std::string s;
  Value data;
  if (!r.ConsumeWord("{\"actor\":") || !r.ReadString(&s)) return std::nullopt;
  e.actor = PersonId(s);
  if (!r.ConsumeWord(",\"at\":") || !r.ReadInt(&e.at.ms)) return std::nullopt;
  if (!r.ConsumeWord(",\"comment\":") || !r.ReadString(&e.comment)) return std::nullopt;
  if (!r.ConsumeWord(",\"data\":") || !r.ReadValue(&data, 0) || !data.is_record())
    return std::nullopt;
  e.data = std::move(std::get<Value::Record>(data.v));
  if (!r.ConsumeWord(",\"instance\":") || !r.ReadInt(&e.instance.value))
    return std::nullopt;
  if (!r.ConsumeWord(",\"node\":") || !r.ReadString(&e.node)) return std::nullopt;
  if (!r.ConsumeWord(",\"on_behalf_of\":") || !r.ReadString(&s)) return std::nullopt;
  e.on_behalf_of = PersonId(s);
  if (!r.ConsumeWord(",\"type\":") || !r.ReadString(&e.type)) return std::nullopt;
  // The reader takes only canonical spellings and the members are read in
  // their fixed order, so what is accepted is EncodeEvent of the result.
  if (!r.ConsumeWord(",\"version\":") || !r.ReadInt(&e.version) || !r.Consume('}') ||
      !r.AtEnd())
    return std::nullopt;
  return e;
}

}  // namespace approvald
