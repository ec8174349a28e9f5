// JSON <-> engine types. Conventions every endpoint follows:
//   - money is an integer number of fen (never a float): 123450 = 1234.50 yuan;
//   - a timestamp `x` is written as "x": ISO 8601 UTC ("2024-03-05T01:02:03.004Z")
//     plus "x_local": the Asia/Shanghai display string ("2024-03-05 09:02:03");
//   - dates are "YYYY-MM-DD"; ids of people and departments are strings;
//   - a person is written with their display names: {"id","name","name_en"}.
// Decoding is strict: wrong types, unknown fields, invalid UTF-8, numbers
// beyond int64, floats where integers belong and nesting deeper than
// kMaxJsonDepth fail with kInvalidArgument naming the field.
#ifndef APPROVALD_API_JSON_CODEC_H_
#define APPROVALD_API_JSON_CODEC_H_

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "approvald/event.h"
#include "approvald/instance.h"
#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/store.h"
#include "approvald/value.h"
#include "approvald/workflow.h"
#include "core/decide.h"

namespace approvald::api {

namespace json = boost::json;

// Deepest nesting accepted in a request body.
inline constexpr int kMaxJsonDepth = 32;

// Parses a request body that must be a JSON object. Errors (kInvalidArgument,
// reason "bad_json") say what is wrong: empty body, malformed JSON, invalid
// UTF-8, nesting deeper than kMaxJsonDepth, not an object.
Result<json::object> ParseJsonObject(std::string_view body);
// The same, the object's memory from `sp` (a caller that reads the body and
// drops it at once may lend a monotonic_resource over a buffer of its own).
Result<json::object> ParseJsonObject(std::string_view body, json::storage_ptr sp);

// Serialises compactly.
std::string ToText(const json::value& v);

// Adds `key` (ISO 8601 UTC) and `key_local` (Shanghai display) to `o`.
void PutTime(json::object& o, std::string_view key, Timestamp t);

// An untyped value: null, bool, int, money (integer fen), date
// ("YYYY-MM-DD"), timestamp (ISO UTC), text, list, record.
json::value ValueToJson(const Value& v);

// How strictly FormFromJson treats missing fields.
enum class FormMode {
  kComplete,  // a submission: required fields must be present
  kPartial,   // task fields or a correction: only what is given
};

// Converts the `data` object of a request into form data, field by field
// against `def.form`. Errors name the field path ("invoices[2].amount").
Result<FormData> FormFromJson(const json::value& data, const WorkflowDef& def,
                              FormMode mode);
// One field's value against its declared type (exposed for tests).
Result<Value> FieldFromJson(const json::value& v, const Type& type,
                            const std::string& path);

// Converts action arguments ({"to": "li", "people": ["a","b"], ...}) into a
// record of untyped values: strings, integers, booleans, lists, records.
// Floats and nulls are refused.
Result<Value::Record> ArgsFromJson(const json::object& args, const std::string& path);

// A person with display names; unknown ids are written with the id as name.
json::value PersonJson(const Org& org, const PersonId& p);

json::object EventToJson(const Event& e, const Org& org);
json::object InstanceRowToJson(const InstanceRow& row, const Org& org);
json::object TaskRowToJson(const TaskRow& t, const Org& org);
json::object AuditEntryToJson(const AuditEntry& e);
json::object FieldDefToJson(const FieldDef& f);
json::value TypeToJson(const Type& t);

// ---- the instance view (GET, POST /api/v1/instances...) ----

// What the API shows of an instance: the parts of the engine's InstanceView
// (or of its cached snapshot), referenced, not copied. Every reference must
// outlive the encoding call.
struct InstanceViewRef {
  const InstanceRow& row;
  const InstanceState& state;
  const WorkflowDef* def;                       // the version it runs on; may be null
  const std::vector<AvailableAction>& actions;  // for the viewer
  bool replayed = false;                        // an idempotent repeat
};

// The instance view as a JSON tree, for responses that add members to it.
json::object InstanceViewJson(const InstanceViewRef& v, const Org& org);

// Appends to `out` the instance view with "attachment_names" as its last
// member, byte for byte what
//   json::object o = InstanceViewJson(v, org);
//   o["attachment_names"] = attachment_names;
//   json::serialize(o)
// gives, but written directly, without building the tree (the hot read).
void AppendInstanceViewJson(std::string* out, const InstanceViewRef& v, const Org& org,
                            const json::object& attachment_names);

// AppendInstanceViewJson in two parts: the head, which depends only on the
// instance's version (row, state, definition) and the organisation, up to
// and including the key "actions"; and the tail, the viewer's actions and
// what follows them. Head then tail appends exactly AppendInstanceViewJson.
void AppendInstanceViewHead(std::string* out, const InstanceViewRef& v, const Org& org);
void AppendInstanceViewTail(std::string* out, const std::vector<AvailableAction>& actions,
                            bool replayed, const json::object& attachment_names);

// The body of every response that shows one instance (GET, submit, act):
// what AppendInstanceViewJson appends, in a string sized for a typical view.
std::string InstanceViewBody(const InstanceViewRef& v, const Org& org,
                             const json::object& attachment_names);

// Appends `s` as a JSON string exactly as json::serialize writes it: quoted,
// `"` and `\` escaped, control characters as \b \t \n \f \r or \u00xx,
// every other byte (UTF-8 included) as is.
void AppendJsonString(std::string* out, std::string_view s);

// Append FormatTimestampUtc(t), FormatTimestampShanghai(t) and FormatDate(d)
// (approvald/types.h): the same bytes, written without snprintf and without
// a temporary string (the hot read writes several per response).
void AppendTimestampUtc(std::string* out, Timestamp t);
void AppendTimestampShanghai(std::string* out, Timestamp t);
void AppendDate(std::string* out, Date d);

std::string HashHex(const Hash& h);
// Parses 64 hex digits; false otherwise.
bool ParseHashHex(std::string_view text, Hash* out);
std::string Base64(std::string_view bytes);

}  // namespace approvald::api

#endif  // APPROVALD_API_JSON_CODEC_H_
