#include "api/router.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "api/attachment_names.h"
#include "api/http_errors.h"
#include "api/json_codec.h"
#include "api/report_routes.h"
#include "api/static_files.h"
#include "core/diagram.h"
#include "core/org_loader.h"
#include "core/registry.h"
#include "core/workflow_loader.h"

namespace approvald::api {
namespace {

using HttpResponse = http::response<http::string_body>;

// Everything a handler needs about the call in progress.
struct Call {
  const Request& req;
  Services& svc;
  std::vector<std::string> segs;          // decoded path segments
  std::map<std::string, std::string> query;
  std::optional<Principal> who;
  std::string route;                      // template, for metrics
  int retry_after_s = 0;                  // for 429 answers
};

std::unexpected<Error> BadRequest(const std::string& msg) {
  return InvalidArgument(api_reason::kBadRequest, msg);
}

std::unexpected<Error> Forbidden(const std::string& msg) {
  return MakeError(ErrorCode::kPermissionDenied, api_reason::kForbiddenRole, msg);
}

// A JSON answer whose body is already written.
HttpResponse JsonTextResponse(const Call& c, http::status status, std::string body) {
  HttpResponse res{status, c.req.msg.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(c.req.msg.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse JsonResponse(const Call& c, http::status status, const json::value& body) {
  return JsonTextResponse(c, status, json::serialize(body));
}

HttpResponse JsonOk(const Call& c, const json::value& body) {
  return JsonResponse(c, http::status::ok, body);
}

HttpResponse TextResponse(const Call& c, http::status status, std::string body,
                          const char* content_type) {
  HttpResponse res{status, c.req.msg.version()};
  res.set(http::field::content_type, content_type);
  res.keep_alive(c.req.msg.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse Fail(const Call& c, const Error& e, int retry_after_s = 0) {
  auto res = ErrorResponse(e, c.req.msg.version(), c.req.msg.keep_alive(), retry_after_s);
  if (e.reason == api_reason::kUnauthenticated || e.reason == api_reason::kInvalidCredentials) {
    res.set(http::field::www_authenticate, "Bearer realm=\"approvald\"");
  }
  return res;
}

// Leaves the handler with the error of a failed Status or Result.
#define APPROVALD_TRY(expr)                                   \
  do {                                                        \
    if (auto try_result_ = (expr); !try_result_)              \
      return std::unexpected(std::move(try_result_).error()); \
  } while (0)

// ---- query parameters ----

// Refuses parameters the route does not know, naming them.
Status AllowOnly(const Call& c, std::initializer_list<const char*> names) {
  for (const auto& [k, v] : c.query) {
    bool ok = false;
    for (const char* n : names) ok = ok || k == n;
    if (!ok) {
      std::string known;
      for (const char* n : names) known += std::string(known.empty() ? "" : ", ") + n;
      return BadRequest("unknown query parameter '" + k + "'" +
                        (known.empty() ? "" : " (known: " + known + ")"));
    }
  }
  return Ok();
}

Result<std::optional<int64_t>> IntParam(const Call& c, const std::string& name, int64_t min,
                                        int64_t max) {
  auto it = c.query.find(name);
  if (it == c.query.end()) return std::optional<int64_t>();
  int64_t v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return BadRequest("query parameter '" + name + "' must be an integer, got '" + s + "'");
  }
  if (v < min || v > max) {
    return BadRequest("query parameter '" + name + "' must be in " + std::to_string(min) +
                      ".." + std::to_string(max));
  }
  return std::optional<int64_t>(v);
}

std::optional<std::string> StrParam(const Call& c, const std::string& name) {
  auto it = c.query.find(name);
  if (it == c.query.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<Timestamp>> TimeParam(const Call& c, const std::string& name) {
  auto s = StrParam(c, name);
  if (!s) return std::optional<Timestamp>();
  if (auto t = ParseTimestamp(*s)) return std::optional<Timestamp>(*t);
  if (auto d = ParseDate(*s)) {
    // A bare date means the start of that day in Shanghai.
    return std::optional<Timestamp>(Timestamp{int64_t{d->days} * kMsPerDay - kShanghaiOffsetMs});
  }
  return BadRequest("query parameter '" + name +
                    "' must be an ISO 8601 time (2024-03-05T08:00:00Z) or a date (2024-03-05)");
}

// The page size: ?limit=N in 1..max_page, `fallback` if absent.
Result<int> PageLimit(const Call& c, int fallback) {
  auto limit = IntParam(c, "limit", 1, c.svc.options.max_page);
  if (!limit) return std::unexpected(limit.error());
  return static_cast<int>(limit->value_or(fallback));
}

// A page of a list: {"items": [...], "next_after": K or null}; a full page
// may have a next one, which starts after `last`.
json::object PageJson(json::array items, int limit, int64_t last) {
  bool full = static_cast<int>(items.size()) == limit && !items.empty();
  json::object o;
  o["items"] = std::move(items);
  if (full) {
    o["next_after"] = last;
  } else {
    o["next_after"] = nullptr;
  }
  return o;
}

Result<InstanceId> IdSegment(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) {
    return BadRequest("instance id must be a positive integer, got '" + s + "'");
  }
  return InstanceId{v};
}

// ---- encoding helpers ----

json::array Strings(const std::vector<std::string>& xs) {
  json::array a;
  a.reserve(xs.size());
  for (const auto& x : xs) a.push_back(json::string(x));
  return a;
}

// ---- request bodies ----

// Refuses fields of `body` not in `names`, naming them.
Status OnlyFields(const json::object& body, std::initializer_list<const char*> names) {
  for (const auto& kv : body) {
    bool ok = false;
    for (const char* n : names) ok = ok || kv.key() == n;
    if (!ok) {
      std::string known;
      for (const char* n : names) known += std::string(known.empty() ? "" : ", ") + n;
      return InvalidArgument("invalid_field", "field '" + std::string(kv.key()) +
                                                  "': unknown field (known: " + known + ")");
    }
  }
  return Ok();
}

// The request body as a JSON object with only the fields in `names`.
Result<json::object> JsonBody(const Call& c, std::initializer_list<const char*> names) {
  auto body = ParseJsonObject(c.req.msg.body());
  if (!body) return std::unexpected(body.error());
  APPROVALD_TRY(OnlyFields(*body, names));
  return body;
}

// Reads the optional string field `name` into *out (left alone if absent).
Status StringField(const json::object& body, const char* name, std::string* out,
                   const char* expected = "a string") {
  const json::value* v = body.if_contains(name);
  if (!v) return Ok();
  if (!v->is_string()) {
    return InvalidArgument("invalid_field",
                           "field '" + std::string(name) + "': expected " + expected);
  }
  *out = std::string(v->get_string());
  return Ok();
}

// ---- principals and roles ----

Status NeedRole(const Call& c, std::initializer_list<Role> roles) {
  for (Role r : roles) {
    if (c.who->role == r) return Ok();
  }
  std::string names;
  for (Role r : roles) names += std::string(names.empty() ? "" : " or ") + std::string(RoleName(r));
  return Forbidden("this needs the role " + names + "; you are '" +
                   std::string(RoleName(c.who->role)) + "'");
}

Status NeedPerson(const Call& c) {
  if (!c.who->person.empty()) return Ok();
  return MakeError(ErrorCode::kPermissionDenied, "no_person",
                   "login '" + c.who->username +
                       "' is not linked to a person of the organisation, so it cannot act");
}

json::object PrincipalJson(const Principal& p, const Org& org) {
  json::object o;
  o["username"] = p.username;
  o["role"] = std::string(RoleName(p.role));
  o["person"] = PersonJson(org, p.person);
  const Person* person = p.person.empty() ? nullptr : org.FindPerson(p.person);
  if (person && !person->dept.empty()) {
    const Department* d = org.FindDept(person->dept);
    json::object dept;
    dept["id"] = person->dept.value;
    dept["name"] = d ? d->name : person->dept.value;
    dept["name_en"] = d ? d->name_en : person->dept.value;
    o["department"] = std::move(dept);
  } else {
    o["department"] = nullptr;
  }
  if (person) {
    o["positions"] = Strings(person->positions);
  }
  o["reports"] = Strings(ReadableReports(p, org));  // api/report_routes.h
  return o;
}

json::object UserJson(const User& u, const Org& org) {
  json::object o;
  o["username"] = u.username;
  o["role"] = std::string(RoleName(u.role));
  o["person"] = PersonJson(org, u.person);
  o["disabled"] = u.disabled;
  o["has_password"] = !u.password_hash.empty();
  PutTime(o, "created_at", u.created_at);
  PutTime(o, "updated_at", u.updated_at);
  return o;
}

// ---- instance views ----

json::array People(const std::vector<PersonId>& ps, const Org& org) {
  json::array a;
  for (const auto& p : ps) a.push_back(PersonJson(org, p));
  return a;
}

// What the API shows of `v` (api/json_codec.h).
InstanceViewRef RefOf(const InstanceView& v) {
  return InstanceViewRef{v.row, v.state, v.def, v.actions, v.replayed};
}
InstanceViewRef RefOf(const SharedInstanceView& v) {
  return InstanceViewRef{v.snapshot->row, v.snapshot->state, v.def, v.actions, v.replayed};
}

// Visibility: auditors read everything; everyone else what they are
// involved in (Engine::CanView).
bool Visible(const Call& c, const InstanceState& st) {
  if (c.who->role == Role::kAuditor) return true;
  if (c.who->person.empty()) return false;
  return c.svc.engine.CanView(st, c.who->person);
}

std::unexpected<Error> InstanceNotVisible(InstanceId id) {
  // The same answer as for a missing instance: existence is not leaked.
  return NotFound("instance_not_found", "no instance " + std::to_string(id.value) +
                                            " that you may see");
}

// The instance as the caller sees it (actions computed for them); a missing
// one is InstanceNotVisible. No visibility check: see VisibleInstance.
Result<InstanceView> LoadInstance(Call& c, InstanceId id) {
  auto view = c.svc.engine.Get(id, c.who->person);
  if (!view && view.error().code == ErrorCode::kNotFound) return InstanceNotVisible(id);
  return view;
}

// The instance if the caller may see it; InstanceNotVisible if it is missing
// or hidden from them (the same answer).
Result<InstanceView> VisibleInstance(Call& c, InstanceId id) {
  auto view = LoadInstance(c, id);
  if (view && !Visible(c, view->state)) return InstanceNotVisible(id);
  return view;
}

// ---- workflows ----

json::object WorkflowSummary(const WorkflowDef& d) {
  json::object o;
  o["id"] = d.id;
  o["title"] = d.title;
  o["title_en"] = d.title_en;
  o["version"] = d.version;
  o["hash"] = d.hash;
  return o;
}

json::object DiagramJson(const Diagram& g) {
  json::object o;
  o["start"] = g.start;
  json::array nodes;
  for (const auto& n : g.nodes) {
    json::object x;
    x["id"] = n.id;
    x["kind"] = n.kind;
    x["title"] = n.title;
    x["title_en"] = n.title_en;
    x["details"] = Strings(n.details);
    x["lane"] = n.lane;
    x["rank"] = n.rank;
    nodes.push_back(std::move(x));
  }
  o["nodes"] = std::move(nodes);
  json::array edges;
  for (const auto& e : g.edges) {
    json::object x;
    x["from"] = e.from;
    x["to"] = e.to;
    x["kind"] = e.kind;
    x["label"] = e.label;
    edges.push_back(std::move(x));
  }
  o["edges"] = std::move(edges);
  json::array lanes;
  for (const auto& l : g.lanes) {
    json::object x;
    x["parallel"] = l.parallel;
    x["name"] = l.name;
    x["column"] = l.column;
    x["nodes"] = Strings(l.nodes);
    lanes.push_back(std::move(x));
  }
  o["lanes"] = std::move(lanes);
  return o;
}

Result<HttpResponse> ListWorkflows(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {}));
  json::array items;
  for (const auto& d : c.svc.engine.registry().List()) items.push_back(WorkflowSummary(*d));
  json::object o;
  o["items"] = std::move(items);
  return JsonOk(c, o);
}

Result<HttpResponse> GetWorkflow(Call& c, const std::string& id) {
  APPROVALD_TRY(AllowOnly(c, {"version"}));
  auto version = IntParam(c, "version", 1, 1000000);
  if (!version) return std::unexpected(version.error());
  const WorkflowRegistry& reg = c.svc.engine.registry();
  auto def = *version ? reg.Get(id, static_cast<int>(**version)) : reg.Latest(id);
  if (!def) {
    return NotFound("workflow_not_found",
                    "no workflow '" + id + "'" +
                        (*version ? " version " + std::to_string(**version) : std::string()));
  }
  json::object o = WorkflowSummary(*def);
  json::array versions;
  for (const auto& v : reg.Versions(id)) {
    json::object x;
    x["version"] = v->version;
    x["hash"] = v->hash;
    versions.push_back(std::move(x));
  }
  o["versions"] = std::move(versions);
  o["latest_version"] = reg.Latest(id)->version;
  json::array form;
  for (const auto& f : def->form) form.push_back(FieldDefToJson(f));
  o["form"] = std::move(form);
  o["start"] = def->start;
  json::array nodes;
  for (const auto& n : def->nodes) {
    json::object x;
    x["id"] = n.id;
    x["kind"] = std::string(NodeKindName(n.kind));
    x["title"] = n.title;
    x["title_en"] = n.title_en;
    if (n.kind == NodeKind::kApproval) x["mode"] = std::string(ApprovalModeName(n.mode));
    x["comment_required"] = n.comment_required;
    nodes.push_back(std::move(x));
  }
  o["nodes"] = std::move(nodes);
  o["diagram"] = DiagramJson(DescribeWorkflow(*def));
  return JsonOk(c, o);
}

// ---- instances ----

std::string IdempotencyKey(const Call& c, Result<void>* err) {
  auto it = c.req.msg.find("Idempotency-Key");
  if (it == c.req.msg.end()) return "";
  std::string key(it->value());
  if (key.empty() || key.size() > 128 || !IsValidUtf8(key)) {
    *err = BadRequest("Idempotency-Key must be 1..128 characters");
  }
  return key;
}

// POST /api/v1/instances, up to the engine: the request it makes.
Result<SubmitRequest> SubmitRequestOf(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {}));
  APPROVALD_TRY(NeedPerson(c));
  auto body = JsonBody(c, {"workflow", "data", "comment", "on_behalf_of"});
  if (!body) return std::unexpected(body.error());
  const json::value* wf = body->if_contains("workflow");
  if (!wf || !wf->is_string()) {
    return InvalidArgument("invalid_field", "field 'workflow': required, the workflow id");
  }
  std::string workflow(wf->get_string());
  auto def = c.svc.engine.registry().Latest(workflow);
  if (!def) return NotFound("workflow_not_found", "no workflow '" + workflow + "'");
  const json::value* data = body->if_contains("data");
  json::value empty = json::object();
  auto form = FormFromJson(data ? *data : empty, *def, FormMode::kComplete);
  if (!form) return std::unexpected(form.error());
  SubmitRequest sr;
  sr.workflow = workflow;
  sr.data = std::move(*form);
  sr.actor = c.who->person;
  APPROVALD_TRY(StringField(*body, "comment", &sr.comment));
  APPROVALD_TRY(StringField(*body, "on_behalf_of", &sr.on_behalf_of.value, "a person id"));
  Result<void> key_err;
  sr.idempotency_key = IdempotencyKey(c, &key_err);
  if (!key_err) return std::unexpected(key_err.error());
  return sr;
}

// POST /api/v1/instances, after the engine: its answer as the response.
Result<HttpResponse> CreatedResponse(Call& c, Result<InstanceView> view) {
  if (!view) return std::unexpected(view.error());
  auto org = c.svc.engine.org();
  HttpResponse res = JsonTextResponse(
      c, http::status::created,
      InstanceViewBody(RefOf(*view), *org, AttachmentNamesJson(c.svc.store, view->state.form)));
  res.set(http::field::location, "/api/v1/instances/" + std::to_string(view->row.id.value));
  if (view->replayed) res.set("Idempotent-Replayed", "true");
  return res;
}

Result<HttpResponse> CreateInstance(Call& c) {
  auto sr = SubmitRequestOf(c);
  if (!sr) return std::unexpected(sr.error());
  return CreatedResponse(c, c.svc.engine.Submit(*sr));
}

// The answer to GET /api/v1/instances/{id} whose body is `body`: the same
// headers from GetInstance and from RouteCached.
HttpResponse InstanceReadResponse(const Call& c, std::string body) {
  HttpResponse res{http::status::ok, c.req.msg.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(c.req.msg.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The body of GET /api/v1/instances/{id} for `view`: the head the services
// cached for its snapshot and `org` (written and cached first if need be,
// with `attachments`: whether its form holds attachment addresses), then the
// viewer's actions (AppendInstanceViewJson's bytes). `body` is empty, or
// holds the head already when `head_appended` (the cached read looked it up).
std::string InstanceReadBody(const Call& c, const SharedInstanceView& view,
                             const std::shared_ptr<const Org>& org,
                             const json::object& attachment_names, bool attachments,
                             std::string body = {}, bool head_appended = false) {
  if (!head_appended) {
    const CachedInstance& snap = *view.snapshot;
    InstanceViewRef ref{snap.row, snap.state, view.def, view.actions};
    body.reserve(4096);
    ViewHeadCache* heads = c.svc.view_heads.get();
    if (heads == nullptr) {
      AppendInstanceViewHead(&body, ref, *org);
    } else if (!heads->AppendTo(view.snapshot, org, &body)) {
      AppendInstanceViewHead(&body, ref, *org);
      heads->Put(view.snapshot, org, body, attachments);
    }
  }
  AppendInstanceViewTail(&body, view.actions, false, attachment_names);
  return body;
}

// The view shares the engine's cached snapshot (no copy of the state) and is
// written straight into the body (no JSON tree). RouteCached answers the
// same request from memory when it can.
Result<HttpResponse> GetInstance(Call& c, InstanceId id) {
  APPROVALD_TRY(AllowOnly(c, {}));
  auto view = c.svc.engine.GetShared(id, c.who->person);
  if (!view) {
    if (view.error().code == ErrorCode::kNotFound) return InstanceNotVisible(id);
    return std::unexpected(view.error());
  }
  const FormData& form = view->snapshot->state.form.get();
  std::vector<std::string> addresses = AttachmentAddresses(form);
  json::object attachment_names = AttachmentNamesJson(c.svc.store, addresses);
  if (!Visible(c, view->snapshot->state)) return InstanceNotVisible(id);
  return InstanceReadResponse(c, InstanceReadBody(c, *view, c.svc.engine.org(), attachment_names,
                                                  !addresses.empty()));
}

Result<HttpResponse> GetInstanceEvents(Call& c, InstanceId id) {
  APPROVALD_TRY(AllowOnly(c, {}));
  APPROVALD_TRY(VisibleInstance(c, id));
  auto trail = c.svc.engine.Trail(id);
  if (!trail) return std::unexpected(trail.error());
  auto org = c.svc.engine.org();
  json::array items;
  for (const auto& e : *trail) items.push_back(EventToJson(e, *org));
  json::object o;
  o["items"] = std::move(items);
  return JsonOk(c, o);
}

Result<HttpResponse> ListInstances(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {"workflow", "status", "mine", "after", "limit"}));
  InstanceQuery q;
  q.workflow = StrParam(c, "workflow");
  q.status = StrParam(c, "status");
  if (q.status) {
    static const std::set<std::string> kStatuses = {"running", "approved", "rejected",
                                                    "withdrawn", "cancelled"};
    if (!kStatuses.count(*q.status)) {
      return BadRequest("query parameter 'status' must be one of running, approved, rejected, "
                        "withdrawn, cancelled");
    }
  }
  auto after = IntParam(c, "after", 0, INT64_MAX);
  if (!after) return std::unexpected(after.error());
  auto limit = PageLimit(c, 50);
  if (!limit) return std::unexpected(limit.error());
  q.after_id = after->value_or(0);
  q.limit = *limit;
  auto mine = StrParam(c, "mine");
  if (mine && *mine != "true" && *mine != "false") {
    return BadRequest("query parameter 'mine' must be true or false");
  }
  bool only_mine = mine && *mine == "true";
  if (c.who->role != Role::kAuditor || only_mine) {
    if (c.who->person.empty()) return JsonOk(c, PageJson(json::array(), q.limit, 0));
    if (only_mine) {
      q.submitter = c.who->person;
    } else {
      q.involved = c.who->person;
    }
  }
  auto rows = c.svc.store.ListInstances(q);
  if (!rows) return std::unexpected(rows.error());
  auto org = c.svc.engine.org();
  json::array items;
  for (const auto& r : *rows) items.push_back(InstanceRowToJson(r, *org));
  int64_t last = rows->empty() ? 0 : rows->back().id.value;
  return JsonOk(c, PageJson(std::move(items), q.limit, last));
}

// POST /api/v1/instances/{id}/actions, up to the engine: the request it
// makes.
Result<ActRequest> ActRequestOf(Call& c, InstanceId id) {
  APPROVALD_TRY(AllowOnly(c, {}));
  APPROVALD_TRY(NeedPerson(c));
  // The body is read into the request below and dropped: parsed into a
  // buffer on the stack (an action's body is a few hundred bytes; a longer
  // one continues on the heap) instead of a heap block per key and string.
  unsigned char arena[1024];
  json::monotonic_resource parsed(arena, sizeof arena);
  auto body = ParseJsonObject(c.req.msg.body(), &parsed);
  if (!body) return std::unexpected(body.error());
  ActRequest ar;
  ar.instance = id;
  ar.command.actor = c.who->person;
  Value::Record inline_args;  // args given at the top level: {"action":"transfer","to":"li"}
  const json::value* data = nullptr;
  for (const auto& kv : *body) {
    std::string_view k = kv.key();
    const json::value& v = kv.value();
    if (k == "action" || k == "comment" || k == "node" || k == "on_behalf_of") {
      if (!v.is_string()) {
        return InvalidArgument("invalid_field",
                               "field '" + std::string(k) + "': expected a string");
      }
      std::string_view s = v.get_string();
      if (k == "action") ar.command.action = s;
      if (k == "comment") ar.command.comment = s;
      if (k == "node") ar.command.node = s;
      if (k == "on_behalf_of") ar.command.on_behalf_of = PersonId(std::string(s));
    } else if (k == "expected_version") {
      if (!v.is_int64() || v.get_int64() < 0) {
        return InvalidArgument("invalid_field",
                               "field 'expected_version': expected a non-negative integer");
      }
      ar.expected_version = v.get_int64();
    } else if (k == "args") {
      if (!v.is_object()) return InvalidArgument("invalid_field", "field 'args': expected an object");
      auto args = ArgsFromJson(v.get_object(), "args");
      if (!args) return std::unexpected(args.error());
      for (auto& [ak, av] : *args) ar.command.args[ak] = std::move(av);
    } else if (k == "data") {
      data = &v;
    } else {
      static const std::set<std::string, std::less<>> kArgNames = {
          "to", "person", "people", "how", "option", "reason"};
      if (!kArgNames.contains(k)) {
        return InvalidArgument(
            "invalid_field",
            "field '" + std::string(k) +
                "': unknown field (known: action, comment, expected_version, node, "
                "args, data, on_behalf_of, to, person, people, how, option, reason)");
      }
      json::object one;
      one[k] = v;
      auto arg = ArgsFromJson(one, "");
      if (!arg) return std::unexpected(arg.error());
      std::string key(k);
      inline_args[key] = std::move(arg->at(key));
    }
  }
  for (auto& [k, v] : inline_args) ar.command.args[k] = std::move(v);
  if (ar.command.action.empty()) {
    return InvalidArgument("invalid_field", "field 'action': required (approve, reject, ...)");
  }
  if (ar.command.action == action::kSubmit || ar.command.action == action::kTick) {
    return InvalidArgument("invalid_field", "field 'action': '" + ar.command.action +
                                                "' is not an action on an instance");
  }
  if (data) {
    // The form of the instance's own definition version.
    auto view = LoadInstance(c, id);
    if (!view) return std::unexpected(view.error());
    if (!view->def) return MakeError(ErrorCode::kInternal, "no_definition", "definition missing");
    FormMode mode = ar.command.action == action::kResubmit ? FormMode::kComplete
                                                            : FormMode::kPartial;
    auto form = FormFromJson(*data, *view->def, mode);
    if (!form) return std::unexpected(form.error());
    ar.command.data = std::move(*form);
  }
  Result<void> key_err;
  ar.idempotency_key = IdempotencyKey(c, &key_err);
  if (!key_err) return std::unexpected(key_err.error());
  return ar;
}

// POST /api/v1/instances/{id}/actions, after the engine: its answer as the
// response. `View` is InstanceView or SharedInstanceView (the asynchronous
// route's, which shares the engine's new snapshot instead of copying it).
template <class View>
Result<HttpResponse> ActResponse(Call& c, InstanceId id, Result<View> view) {
  if (!view) {
    if (view.error().code == ErrorCode::kNotFound) return InstanceNotVisible(id);
    return std::unexpected(view.error());
  }
  auto org = c.svc.engine.org();
  InstanceViewRef ref = RefOf(*view);
  HttpResponse res = JsonTextResponse(
      c, http::status::ok,
      InstanceViewBody(ref, *org, AttachmentNamesJson(c.svc.store, ref.state.form)));
  if (ref.replayed) res.set("Idempotent-Replayed", "true");
  return res;
}

Result<HttpResponse> Act(Call& c, InstanceId id) {
  auto ar = ActRequestOf(c, id);
  if (!ar) return std::unexpected(ar.error());
  return ActResponse(c, id, c.svc.engine.Act(*ar));
}

// ---- tasks ----

Result<HttpResponse> ListTasks(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {"kind", "limit"}));
  std::string kind = StrParam(c, "kind").value_or("pending");
  if (kind != "pending" && kind != "done" && kind != "cc") {
    return BadRequest("query parameter 'kind' must be pending, done or cc");
  }
  auto limit = PageLimit(c, 100);
  if (!limit) return std::unexpected(limit.error());
  json::object o;
  json::array items;
  if (!c.who->person.empty()) {
    auto rows = c.svc.store.ListTasks(c.who->person, kind, *limit);
    if (!rows) return std::unexpected(rows.error());
    auto org = c.svc.engine.org();
    std::map<int64_t, json::value> instances;
    for (const auto& t : *rows) {
      json::object x = TaskRowToJson(t, *org);
      auto it = instances.find(t.instance.value);
      if (it == instances.end()) {
        auto row = c.svc.store.GetInstance(t.instance);
        json::value v = row ? json::value(InstanceRowToJson(*row, *org)) : json::value(nullptr);
        it = instances.emplace(t.instance.value, std::move(v)).first;
      }
      x["instance_row"] = it->second;
      items.push_back(std::move(x));
    }
  }
  o["items"] = std::move(items);
  o["kind"] = kind;
  return JsonOk(c, o);
}

// ---- attachments ----

Result<HttpResponse> PutAttachment(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {"name"}));
  std::optional<std::string> name;  // ?name=: the file name (api/attachment_names.h)
  if (auto raw = StrParam(c, "name")) {
    auto clean = CleanAttachmentName(*raw);
    if (!clean) return std::unexpected(clean.error());
    name = std::move(*clean);
  }
  if (c.req.msg.body().empty()) return BadRequest("the attachment is empty");
  auto addr = c.svc.store.PutAttachment(c.req.msg.body(), c.svc.options.max_attachment_bytes);
  if (!addr) {
    if (addr.error().reason == "attachment_too_large") {
      return InvalidArgument(api_reason::kPayloadTooLarge, addr.error().message);
    }
    return std::unexpected(addr.error());
  }
  if (name) APPROVALD_TRY(c.svc.store.NameAttachment(*addr, *name));
  json::object o;
  o["hash"] = *addr;
  if (name) o["name"] = *name;
  o["size"] = static_cast<int64_t>(c.req.msg.body().size());
  return JsonResponse(c, http::status::created, o);
}

// True if `v` is the string `s` or holds it in a list or record.
bool Mentions(const Value& v, const std::string& s) {
  if (v.is_string()) return v.as_string() == s;
  if (v.is_list()) {
    for (const auto& x : v.as_list()) {
      if (Mentions(x, s)) return true;
    }
  }
  if (v.is_record()) {
    for (const auto& [k, x] : v.as_record()) {
      if (Mentions(x, s)) return true;
    }
  }
  return false;
}

// Attachments are read through an instance whose form names them
// (?instance=ID), by those who may see that instance; auditors may read any
// attachment without naming an instance.
Result<HttpResponse> GetAttachment(Call& c, const std::string& hash) {
  APPROVALD_TRY(AllowOnly(c, {"instance"}));
  auto instance = IntParam(c, "instance", 1, INT64_MAX);
  if (!instance) return std::unexpected(instance.error());
  if (*instance) {
    InstanceId id{**instance};
    auto view = VisibleInstance(c, id);
    if (!view) return std::unexpected(view.error());
    bool named = false;
    for (const auto& [field, value] : view->state.form) named = named || Mentions(value, hash);
    if (!named) {
      return NotFound("attachment_not_found", "instance " + std::to_string(id.value) +
                                                  " has no attachment " + hash);
    }
  } else if (c.who->role != Role::kAuditor) {
    return Forbidden("attachments are read through the instance that names them: add "
                     "?instance=ID of an instance you may see");
  }
  auto bytes = c.svc.store.GetAttachment(hash);
  if (!bytes) return std::unexpected(bytes.error());
  HttpResponse res = TextResponse(c, http::status::ok, std::move(*bytes),
                                  "application/octet-stream");
  res.set(http::field::cache_control, "private, max-age=31536000, immutable");
  res.set("X-Content-Type-Options", "nosniff");
  return res;
}

// ---- audit ----

Status NeedAuditReader(const Call& c) { return NeedRole(c, {Role::kAuditor, Role::kAdmin}); }

Result<HttpResponse> QueryAudit(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {"instance", "actor", "action", "from", "to", "after", "limit"}));
  AuditQuery q;
  auto inst = IntParam(c, "instance", 1, INT64_MAX);
  if (!inst) return std::unexpected(inst.error());
  if (*inst) q.instance = InstanceId{**inst};
  if (auto a = StrParam(c, "actor")) q.actor = PersonId(*a);
  q.type = StrParam(c, "action");
  auto from = TimeParam(c, "from");
  if (!from) return std::unexpected(from.error());
  q.from = *from;
  auto to = TimeParam(c, "to");
  if (!to) return std::unexpected(to.error());
  q.to = *to;
  auto after = IntParam(c, "after", -1, INT64_MAX);
  if (!after) return std::unexpected(after.error());
  q.after_index = after->value_or(-1);
  auto limit = PageLimit(c, 100);
  if (!limit) return std::unexpected(limit.error());
  q.limit = *limit;
  // Users may read the trail of an instance they may see; the whole log is
  // for auditors and admins.
  if (!NeedAuditReader(c)) {
    if (!q.instance) {
      return Forbidden("the whole audit log is for auditors; users may query one instance "
                       "they are involved in with ?instance=ID");
    }
    APPROVALD_TRY(VisibleInstance(c, *q.instance));
  }
  auto entries = c.svc.store.QueryAudit(q);
  if (!entries) return std::unexpected(entries.error());
  json::array items;
  for (const auto& e : *entries) items.push_back(AuditEntryToJson(e));
  int64_t last = entries->empty() ? -1 : entries->back().index;
  return JsonOk(c, PageJson(std::move(items), q.limit, last));
}

Result<HttpResponse> LatestCheckpoint(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {}));
  auto cp = c.svc.store.LatestCheckpoint();
  if (!cp) return std::unexpected(cp.error());
  if (!*cp) return NotFound("no_checkpoint", "no checkpoint has been signed yet");
  const Checkpoint& k = **cp;
  json::object o;
  o["size"] = k.size;
  o["root"] = HashHex(k.root);
  PutTime(o, "at", k.at);
  o["signature"] = Base64(k.signature);
  if (c.svc.options.log_key) {
    o["origin"] = c.svc.options.log_key->origin;
    o["verifier_key"] = audit::VerifierKey(*c.svc.options.log_key);
    o["public_key_pem"] = c.svc.options.log_key->key.Pem();
    o["note"] = audit::FormatSignedCheckpoint(*c.svc.options.log_key, k);
  }
  return JsonOk(c, o);
}

json::array HashList(const std::vector<Hash>& hs) {
  json::array a;
  for (const auto& h : hs) a.push_back(json::string(HashHex(h)));
  return a;
}

Result<HttpResponse> InclusionProof(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {"index", "size"}));
  auto index = IntParam(c, "index", 0, INT64_MAX);
  if (!index) return std::unexpected(index.error());
  auto size = IntParam(c, "size", 1, INT64_MAX);
  if (!size) return std::unexpected(size.error());
  if (!*index) return BadRequest("query parameter 'index' is required");
  auto total = c.svc.store.AuditSize();
  if (!total) return std::unexpected(total.error());
  int64_t n = size->value_or(*total);
  if (n > *total || **index >= n) {
    return BadRequest("need index < size <= " + std::to_string(*total) +
                      " (the log's current size)");
  }
  auto proof = c.svc.store.InclusionProof(**index, n);
  if (!proof) return std::unexpected(proof.error());
  auto root = c.svc.store.RootAt(n);
  if (!root) return std::unexpected(root.error());
  AuditQuery q;
  q.after_index = **index - 1;
  q.limit = 1;
  auto entry = c.svc.store.QueryAudit(q);
  if (!entry) return std::unexpected(entry.error());
  json::object o;
  o["index"] = **index;
  o["size"] = n;
  if (!entry->empty()) o["leaf_hash"] = HashHex(entry->front().leaf_hash);
  o["root"] = HashHex(*root);
  o["proof"] = HashList(*proof);
  return JsonOk(c, o);
}

Result<HttpResponse> ConsistencyProof(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {"old", "new"}));
  auto old_size = IntParam(c, "old", 1, INT64_MAX);
  if (!old_size) return std::unexpected(old_size.error());
  auto new_size = IntParam(c, "new", 1, INT64_MAX);
  if (!new_size) return std::unexpected(new_size.error());
  if (!*old_size) return BadRequest("query parameter 'old' is required");
  auto total = c.svc.store.AuditSize();
  if (!total) return std::unexpected(total.error());
  int64_t n = new_size->value_or(*total);
  if (**old_size > n || n > *total) {
    return BadRequest("need 1 <= old <= new <= " + std::to_string(*total) +
                      " (the log's current size)");
  }
  auto proof = c.svc.store.ConsistencyProof(**old_size, n);
  if (!proof) return std::unexpected(proof.error());
  auto old_root = c.svc.store.RootAt(**old_size);
  if (!old_root) return std::unexpected(old_root.error());
  auto new_root = c.svc.store.RootAt(n);
  if (!new_root) return std::unexpected(new_root.error());
  json::object o;
  o["old"] = **old_size;
  o["new"] = n;
  o["old_root"] = HashHex(*old_root);
  o["new_root"] = HashHex(*new_root);
  o["proof"] = HashList(*proof);
  return JsonOk(c, o);
}

// ---- auth, me, org, users ----

Result<HttpResponse> Login(Call& c) {
  auto body = JsonBody(c, {"username", "password"});
  if (!body) return std::unexpected(body.error());
  std::string username, password;
  APPROVALD_TRY(StringField(*body, "username", &username));
  APPROVALD_TRY(StringField(*body, "password", &password));
  if (username.empty() || password.empty()) {
    return InvalidArgument("invalid_field", "fields 'username' and 'password' are required");
  }
  auto r = c.svc.auth.Login(username, password, c.req.remote, &c.retry_after_s);
  if (!r) return std::unexpected(r.error());
  c.who = r->principal;
  auto org = c.svc.engine.org();
  json::object o;
  o["token"] = r->token;
  PutTime(o, "expires_at", r->expires_at);
  o["user"] = PrincipalJson(r->principal, *org);
  return JsonOk(c, o);
}

json::object OrgJson(const Org& org) {
  json::object o;
  json::object unit;
  unit["name"] = org.unit_name;
  unit["name_en"] = org.unit_name_en;
  o["unit"] = std::move(unit);
  json::array depts;
  for (const auto& d : org.departments) {
    json::object x;
    x["id"] = d.id.value;
    x["name"] = d.name;
    x["name_en"] = d.name_en;
    x["head"] = PersonJson(org, d.head);
    x["supervisor"] = PersonJson(org, d.supervisor);
    x["purchasing"] = d.purchasing;
    depts.push_back(std::move(x));
  }
  o["departments"] = std::move(depts);
  json::array people;
  for (const auto& p : org.people) {
    json::object x;
    x["id"] = p.id.value;
    x["name"] = p.name;
    x["name_en"] = p.name_en;
    x["dept"] = p.dept.value;
    x["positions"] = Strings(p.positions);
    people.push_back(std::move(x));
  }
  o["people"] = std::move(people);
  json::array positions;
  for (const auto& p : org.positions) {
    json::object x;
    x["id"] = p.id;
    x["name"] = p.name;
    x["name_en"] = p.name_en;
    positions.push_back(std::move(x));
  }
  o["positions"] = std::move(positions);
  json::array groups;
  for (const auto& g : org.groups) {
    json::object x;
    x["id"] = g.id;
    x["name"] = g.name;
    x["name_en"] = g.name_en;
    x["members"] = People(g.members, org);
    groups.push_back(std::move(x));
  }
  o["groups"] = std::move(groups);
  return o;
}

Result<HttpResponse> PutOrg(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {}));
  APPROVALD_TRY(NeedRole(c, {Role::kAdmin}));
  const std::string& text = c.req.msg.body();
  if (!IsValidUtf8(text)) return BadRequest("the organisation must be UTF-8 YAML text");
  OrgLoad load = LoadOrg(text, "request body");
  if (!load.errors.empty() || !load.org) {
    std::string msg = "the organisation is not valid:";
    for (const auto& e : load.errors) msg += "\n" + e.ToString();
    return InvalidArgument("invalid_org", msg);
  }
  // Persist first (atomically), so a restart keeps what was acknowledged.
  const std::string& path = c.svc.options.org_file;
  if (!path.empty()) {
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      out.flush();
      if (!out) return Unavailable("org_write_failed", "cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Unavailable("org_write_failed", "cannot replace " + path + ": " + ec.message());
  }
  auto org = std::make_shared<const Org>(std::move(*load.org));
  c.svc.engine.SetOrg(org);
  AuditRecord rec;
  rec.type = "org_changed";
  rec.actor = c.who->person.empty() ? PersonId(c.who->username) : c.who->person;
  rec.subject = "org";
  rec.data["username"] = Value::Str(c.who->username);
  rec.data["people"] = Value::Int(static_cast<int64_t>(org->people.size()));
  rec.data["departments"] = Value::Int(static_cast<int64_t>(org->departments.size()));
  rec.data["sha256"] = Value::Str(TokenHash(text));
  rec.at = c.svc.clock.Now();
  APPROVALD_TRY(c.svc.store.AppendAudit(rec));
  return JsonOk(c, OrgJson(*org));
}

Result<HttpResponse> ListUsers(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {}));
  APPROVALD_TRY(NeedRole(c, {Role::kAdmin}));
  auto users = c.svc.auth.users().ListUsers();
  if (!users) return std::unexpected(users.error());
  auto org = c.svc.engine.org();
  json::array items;
  for (const auto& u : *users) items.push_back(UserJson(u, *org));
  json::object o;
  o["items"] = std::move(items);
  return JsonOk(c, o);
}

Result<std::optional<Role>> RoleField(const json::object& body) {
  const json::value* v = body.if_contains("role");
  if (!v) return std::optional<Role>();
  if (!v->is_string()) return InvalidArgument("invalid_field", "field 'role': expected a string");
  auto role = ParseRole(std::string(v->get_string()));
  if (!role) {
    return InvalidArgument("invalid_field", "field 'role': must be user, admin or auditor");
  }
  return std::optional<Role>(*role);
}

Result<std::optional<PersonId>> PersonField(const json::object& body, const Org& org) {
  const json::value* v = body.if_contains("person");
  if (!v || v->is_null()) return std::optional<PersonId>();
  if (!v->is_string()) return InvalidArgument("invalid_field", "field 'person': expected a person id");
  PersonId p(std::string(v->get_string()));
  if (!p.empty() && !org.FindPerson(p)) {
    return InvalidArgument("invalid_field",
                           "field 'person': no person '" + p.value + "' in the organisation");
  }
  return std::optional<PersonId>(p);
}

Result<HttpResponse> AddUser(Call& c) {
  APPROVALD_TRY(AllowOnly(c, {}));
  APPROVALD_TRY(NeedRole(c, {Role::kAdmin}));
  auto body = JsonBody(c, {"username", "role", "person", "password"});
  if (!body) return std::unexpected(body.error());
  const json::value* name = body->if_contains("username");
  if (!name || !name->is_string()) {
    return InvalidArgument("invalid_field", "field 'username': required string");
  }
  auto role = RoleField(*body);
  if (!role) return std::unexpected(role.error());
  auto org = c.svc.engine.org();
  auto person = PersonField(*body, *org);
  if (!person) return std::unexpected(person.error());
  std::string password;
  if (body->contains("password")) {
    APPROVALD_TRY(StringField(*body, "password", &password));
    if (password.size() < 8) {
      return InvalidArgument("weak_password", "a password needs at least 8 characters");
    }
  }
  auto user = c.svc.auth.AddUser(std::string(name->get_string()), role->value_or(Role::kUser),
                                 person->value_or(PersonId()), password, c.who->username);
  if (!user) return std::unexpected(user.error());
  return JsonResponse(c, http::status::created, UserJson(*user, *org));
}

Result<HttpResponse> PatchUser(Call& c, const std::string& username) {
  APPROVALD_TRY(AllowOnly(c, {}));
  APPROVALD_TRY(NeedRole(c, {Role::kAdmin}));
  auto body = JsonBody(c, {"role", "person", "disabled", "password"});
  if (!body) return std::unexpected(body.error());
  auto role = RoleField(*body);
  if (!role) return std::unexpected(role.error());
  auto org = c.svc.engine.org();
  auto person = PersonField(*body, *org);
  if (!person) return std::unexpected(person.error());
  std::optional<bool> disabled;
  if (const json::value* d = body->if_contains("disabled")) {
    if (!d->is_bool()) return InvalidArgument("invalid_field", "field 'disabled': expected true or false");
    disabled = d->get_bool();
  }
  if (body->contains("password")) {
    std::string password;
    APPROVALD_TRY(StringField(*body, "password", &password));
    APPROVALD_TRY(c.svc.auth.SetPassword(username, password, c.who->username));
  }
  auto user = c.svc.auth.UpdateUser(username, *role, *person, disabled, c.who->username);
  if (!user) return std::unexpected(user.error());
  return JsonOk(c, UserJson(*user, *org));
}

// ---- the table ----

bool IsMutating(http::verb v) {
  return v != http::verb::get && v != http::verb::head && v != http::verb::options;
}

// The token of "Authorization: Bearer X", "" if there is none.
std::string_view BearerToken(const Request& req) {
  auto auth = req.msg.find(http::field::authorization);
  if (auth != req.msg.end()) {
    std::string_view v = auth->value();
    if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) {
      return v.substr(7);
    }
  }
  return {};
}

// The token of a request: "Authorization: Bearer X"; for the WebSocket
// upgrade also "Sec-WebSocket-Protocol: approvald, X" or "?token=X"
// (browsers cannot set headers on a WebSocket).
std::string TokenOf(const Call& c, bool websocket, std::string* subprotocol) {
  if (std::string_view bearer = BearerToken(c.req); !bearer.empty()) {
    return std::string(bearer);
  }
  if (websocket) {
    auto proto = c.req.msg.find(http::field::sec_websocket_protocol);
    if (proto != c.req.msg.end()) {
      std::string_view v = proto->value();
      auto comma = v.find(',');
      if (comma != std::string_view::npos && v.substr(0, comma) == "approvald") {
        std::string_view t = v.substr(comma + 1);
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        *subprotocol = "approvald";
        return std::string(t);
      }
    }
    auto q = c.query.find("token");
    if (q != c.query.end()) return q->second;
  }
  return "";
}

// ---- the table of authenticated routes ----

using Args = std::vector<std::string>;  // the path's "{...}" segments, in order
using Handler = Result<HttpResponse> (*)(Call&, const Args&);
// The same route answered without holding the thread while the engine
// commits (RouteAsync): calls `then` exactly once with what Handler would
// have returned; `c` stays alive until then.
using Then = std::function<void(Result<HttpResponse>)>;
using AsyncHandler = void (*)(Call& c, const Args&, Then then);

struct Endpoint {
  const char* path;  // under /api/v1/; a "{name}" segment matches any one segment
  http::verb verb;
  Handler handler;
  AsyncHandler async = nullptr;  // for routes that wait on a durable commit
};


// The instance id of an "instances/{id}..." path (validated by the matcher).
InstanceId IdArg(const Args& a) { return *IdSegment(a[0]); }

// Runs `f` (a part of a handler) as RouteCall runs a handler: an exception
// becomes the 500 answer and a log line.
template <class F>
Result<HttpResponse> Guarded(Call& c, F&& f) {
  try {
    return f();
  } catch (const std::exception& ex) {
    spdlog::error("req={} route={} exception={}", c.req.request_id, c.route, ex.what());
    return Fail(c, Error{ErrorCode::kInternal, "internal", "internal error; see the server log"});
  }
}

// POST /api/v1/instances through Engine::SubmitAsync.
void CreateInstanceAsync(Call& c, const Args&, Then then) {
  std::optional<Result<SubmitRequest>> sr;
  auto threw = Guarded(c, [&]() -> Result<HttpResponse> {
    sr = SubmitRequestOf(c);
    return HttpResponse{};
  });
  if (!sr) return then(std::move(threw));
  if (!*sr) return then(std::unexpected(sr->error()));
  c.svc.engine.SubmitAsync(**sr, [&c, then = std::move(then)](Result<InstanceView> view) {
    then(Guarded(c, [&] { return CreatedResponse(c, std::move(view)); }));
  });
}

// POST /api/v1/instances/{id}/actions through Engine::ActAsync.
void ActAsync(Call& c, const Args& a, Then then) {
  InstanceId id = IdArg(a);
  std::optional<Result<ActRequest>> ar;
  auto threw = Guarded(c, [&]() -> Result<HttpResponse> {
    ar = ActRequestOf(c, id);
    return HttpResponse{};
  });
  if (!ar) return then(std::move(threw));
  if (!*ar) return then(std::unexpected(ar->error()));
  c.svc.engine.ActAsyncShared(**ar, [&c, id, then = std::move(then)](
                                         Result<SharedInstanceView> view) {
    then(Guarded(c, [&] { return ActResponse(c, id, std::move(view)); }));
  });
}

Result<HttpResponse> GetMe(Call& c, const Args&) {
  auto org = c.svc.engine.org();
  return JsonOk(c, PrincipalJson(*c.who, *org));
}

Result<HttpResponse> GetOrg(Call& c, const Args&) {
  auto org = c.svc.engine.org();
  return JsonOk(c, OrgJson(*org));
}

// Several verbs of one path are listed together, in the order the Allow
// header of a 405 names them.
const Endpoint kEndpoints[] = {
    {"me", http::verb::get, GetMe},
    {"org", http::verb::get, GetOrg},
    {"org", http::verb::put, [](Call& c, const Args&) { return PutOrg(c); }},
    {"users", http::verb::get, [](Call& c, const Args&) { return ListUsers(c); }},
    {"users", http::verb::post, [](Call& c, const Args&) { return AddUser(c); }},
    {"users/{username}", http::verb::patch,
     [](Call& c, const Args& a) { return PatchUser(c, a[0]); }},
    {"workflows", http::verb::get, [](Call& c, const Args&) { return ListWorkflows(c); }},
    {"workflows/{id}", http::verb::get,
     [](Call& c, const Args& a) { return GetWorkflow(c, a[0]); }},
    {"instances", http::verb::get, [](Call& c, const Args&) { return ListInstances(c); }},
    {"instances", http::verb::post, [](Call& c, const Args&) { return CreateInstance(c); },
     CreateInstanceAsync},
    {"instances/{id}", http::verb::get,
     [](Call& c, const Args& a) { return GetInstance(c, IdArg(a)); }},
    {"instances/{id}/events", http::verb::get,
     [](Call& c, const Args& a) { return GetInstanceEvents(c, IdArg(a)); }},
    {"instances/{id}/actions", http::verb::post,
     [](Call& c, const Args& a) { return Act(c, IdArg(a)); }, ActAsync},
    {"tasks", http::verb::get, [](Call& c, const Args&) { return ListTasks(c); }},
    {"attachments", http::verb::post, [](Call& c, const Args&) { return PutAttachment(c); }},
    {"attachments/{hash}", http::verb::get,
     [](Call& c, const Args& a) { return GetAttachment(c, a[0]); }},
    {"audit", http::verb::get, [](Call& c, const Args&) { return QueryAudit(c); }},
    {"audit/checkpoint", http::verb::get,
     [](Call& c, const Args&) { return LatestCheckpoint(c); }},
    {"audit/proof/inclusion", http::verb::get,
     [](Call& c, const Args&) { return InclusionProof(c); }},
    {"audit/proof/consistency", http::verb::get,
     [](Call& c, const Args&) { return ConsistencyProof(c); }},
    // api/report_routes.h
    {"reports/{name}", http::verb::get,
     [](Call& c, const Args& a) {
       return HandleReportRoute(c.req, c.svc, *c.who, {"reports", a[0]}, c.query, &c.route);
     }},
};

// True if `segs` has the shape of `path`; the "{...}" segments go to *args.
bool MatchPath(std::string_view path, const std::vector<std::string>& segs, Args* args) {
  size_t i = 0;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (i >= segs.size()) return false;
    if (seg.front() == '{') {
      args->push_back(segs[i]);
    } else if (seg != segs[i]) {
      return false;
    }
    ++i;
  }
  return i == segs.size();
}

HttpResponse MethodNotAllowed(const Call& c, const std::string& allow) {
  auto res = Fail(c, Error{ErrorCode::kInvalidArgument, api_reason::kMethodNotAllowed,
                           "this path allows " + allow});
  res.set(http::field::allow, allow);
  return res;
}

// An endpoint whose answer RouteAsync awaits instead of Dispatch.
struct Deferred {
  AsyncHandler handler = nullptr;
  Args args;
};

// Finds the endpoint of `p` (the path under /api/v1) and the request's
// method: 404 for an unknown path, 400 for a malformed instance id, 405 for
// a method the path does not allow. With `deferred`, an endpoint that has an
// asynchronous form is not run: it is left in *deferred (and an empty
// response returned) for the caller to run.
Result<HttpResponse> DispatchEndpoint(Call& c, const std::vector<std::string>& p,
                                      Deferred* deferred) {
  http::verb m = c.req.msg.method();
  const Endpoint* found = nullptr;
  const char* path = nullptr;
  Args args;
  std::string allow;
  for (const Endpoint& e : kEndpoints) {
    if (path == nullptr) {
      Args a;
      if (!MatchPath(e.path, p, &a)) continue;
      path = e.path;
      args = std::move(a);
    } else if (std::string_view(e.path) != path) {
      continue;
    }
    if (e.verb == m) found = &e;
    allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(e.verb));
  }
  if (path == nullptr) {
    c.route = "(unknown)";
    return NotFound(api_reason::kRouteNotFound,
                    "no such path under /api/v1 (see /api/v1/openapi.json)");
  }
  c.route = std::string("/api/v1/") + path;
  if (std::string_view(path).starts_with("instances/")) {
    APPROVALD_TRY(IdSegment(args[0]));
  }
  if (found == nullptr) return MethodNotAllowed(c, allow);
  if (deferred != nullptr && found->async != nullptr) {
    deferred->handler = found->async;
    deferred->args = std::move(args);
    return HttpResponse{};
  }
  return found->handler(c, args);
}

// Counts the request against the caller's rate: 429 once it is spent.
Status CheckRate(Call& c) {
  int64_t retry_ms = 0;
  if (!c.svc.limiter.Allow("user:", c.who->username, c.svc.monotonic_ms(), &retry_ms)) {
    c.route = "/api/v1/(rate limited)";
    c.retry_after_s = static_cast<int>((retry_ms + 999) / 1000);
    return std::unexpected(Error{ErrorCode::kUnavailable, api_reason::kRateLimited,
                                 "too many requests; slow down and retry in " +
                                     std::to_string(c.retry_after_s) + " s"});
  }
  return Ok();
}

// What every route behind a session checks, in this order: the session of
// `token` (unless the caller authenticated already), the caller's rate, and
// that an auditor changes nothing (but may log out). Sets c.who; sets
// c.route when it refuses.
Status Admit(Call& c, std::string_view token, bool websocket, bool logout) {
  if (!c.who) {  // RouteCached authenticates before routing
    auto who = c.svc.auth.Authenticate(token);
    if (!who) {
      c.route = websocket ? "/api/v1/ws" : "/api/v1/(authenticated)";
      return std::unexpected(who.error());
    }
    c.who = std::move(*who);
  }
  APPROVALD_TRY(CheckRate(c));
  if (c.who->role == Role::kAuditor && IsMutating(c.req.msg.method()) && !logout) {
    c.route = "/api/v1/(auditor write)";
    return Forbidden("auditors read everything and change nothing");
  }
  return Ok();
}

Result<HttpResponse> Dispatch(Call& c, Response* out, Deferred* deferred) {
  const auto& s = c.segs;
  http::verb m = c.req.msg.method();
  auto method_not_allowed = [&](const char* allow) -> Result<HttpResponse> {
    return MethodNotAllowed(c, allow);
  };

  // Public routes.
  if (s.size() == 1 && s[0] == "healthz") {
    c.route = "/healthz";
    if (m != http::verb::get) return method_not_allowed("GET");
    json::object o;
    bool draining = c.svc.draining && c.svc.draining->load();
    o["status"] = draining ? "draining" : "ok";
    return JsonResponse(c, draining ? http::status::service_unavailable : http::status::ok, o);
  }
  if (s.size() == 1 && s[0] == "metrics") {
    c.route = "/metrics";
    if (m != http::verb::get) return method_not_allowed("GET");
    return TextResponse(c, http::status::ok, c.svc.metrics.Render(),
                        "text/plain; version=0.0.4; charset=utf-8");
  }
  if (!c.svc.options.web_root.empty() && (s.empty() || s[0] != "api")) {
    c.route = "/(web ui)";
    return ServeStaticFile(c.svc.options.web_root, c.req.msg, s);
  }
  if (s.size() < 2 || s[0] != "api" || s[1] != "v1") {
    c.route = "(unknown)";
    return NotFound(api_reason::kRouteNotFound, "no such path; the API is under /api/v1 "
                                                "(see /api/v1/openapi.json)");
  }
  std::vector<std::string> p(s.begin() + 2, s.end());
  if (p.size() == 1 && p[0] == "openapi.json") {
    c.route = "/api/v1/openapi.json";
    if (m != http::verb::get) return method_not_allowed("GET");
    return TextResponse(c, http::status::ok, std::string(OpenApiDocument()), "application/json");
  }
  if (p.size() == 2 && p[0] == "auth" && p[1] == "login") {
    c.route = "/api/v1/auth/login";
    if (m != http::verb::post) return method_not_allowed("POST");
    return Login(c);
  }

  // Everything else needs a session.
  bool websocket = p.size() == 1 && p[0] == "ws";
  std::string subprotocol;
  std::string token = TokenOf(c, websocket, &subprotocol);
  bool logout = p.size() == 2 && p[0] == "auth" && p[1] == "logout";
  APPROVALD_TRY(Admit(c, token, websocket, logout));

  if (logout) {
    c.route = "/api/v1/auth/logout";
    if (m != http::verb::post) return method_not_allowed("POST");
    APPROVALD_TRY(c.svc.auth.Logout(*c.who));
    HttpResponse res{http::status::no_content, c.req.msg.version()};
    res.keep_alive(c.req.msg.keep_alive());
    res.prepare_payload();
    return res;
  }
  if (websocket) {
    c.route = "/api/v1/ws";
    if (m != http::verb::get) return method_not_allowed("GET");
    if (!boost::beast::websocket::is_upgrade(c.req.msg)) {
      return BadRequest("this path is a WebSocket; connect with an Upgrade: websocket request");
    }
    out->upgrade_websocket = true;
    out->ws_subprotocol = subprotocol;
    HttpResponse res{http::status::switching_protocols, c.req.msg.version()};
    return res;
  }
  return DispatchEndpoint(c, p, deferred);
}

// Splits and decodes the target; refuses "." and ".." segments, empty
// segments inside the path and duplicate query parameters.
Status ParseTarget(Call& c) {
  std::string_view target = c.req.msg.target();
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return BadRequest("the request target is not a valid path");
  boost::urls::url_view u = *parsed;
  for (auto seg : u.segments()) {
    std::string s(seg);
    if (s == "." || s == "..") return BadRequest("the path must not contain '.' or '..' segments");
    if (!IsValidUtf8(s)) return BadRequest("the path is not valid UTF-8");
    c.segs.push_back(std::move(s));
  }
  // A trailing slash yields an empty last segment; treat "/x/" as "/x".
  if (!c.segs.empty() && c.segs.back().empty()) c.segs.pop_back();
  for (const auto& seg : c.segs) {
    if (seg.empty()) return BadRequest("the path has an empty segment ('//')");
  }
  for (auto param : u.params()) {
    std::string key(param.key), value(param.value);
    if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
      return BadRequest("query parameters must be valid UTF-8");
    }
    if (!c.query.emplace(key, value).second) {
      return BadRequest("query parameter '" + key + "' is given twice");
    }
  }
  return Ok();
}

}  // namespace

Status CheckVisible(Services& services, const Principal& who, InstanceId id) {
  Request dummy;
  Call c{dummy, services, {}, {}, who, "/api/v1/ws", 0};
  APPROVALD_TRY(VisibleInstance(c, id));
  return Ok();
}

namespace {

constexpr std::string_view kInstancesPrefix = "/api/v1/instances/";
constexpr std::string_view kActionsSuffix = "/actions";

// The digits of a target "/api/v1/instances/" followed by 1 to 18 digits
// (not all zeros) and "/actions": a plain target, nothing to decode, that
// ParseTarget and the endpoint table would take to POST
// /api/v1/instances/{id}/actions with that id. "" for any other target.
std::string_view PlainActionTarget(std::string_view target) {
  if (target.size() <= kInstancesPrefix.size() + kActionsSuffix.size() ||
      !target.starts_with(kInstancesPrefix) || !target.ends_with(kActionsSuffix))
    return {};
  std::string_view digits =
      target.substr(kInstancesPrefix.size(),
                    target.size() - kInstancesPrefix.size() - kActionsSuffix.size());
  if (digits.size() > 18) return {};
  bool nonzero = false;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return {};
    nonzero = nonzero || ch != '0';
  }
  return nonzero ? digits : std::string_view();
}

// What Dispatch does for POST /api/v1/instances/{id}/actions with the plain
// target of `digits` (PlainActionTarget), without parsing the target or
// walking the endpoint table: the session checks, then the route is left
// in *deferred.
Result<HttpResponse> DispatchPlainAction(Call& c, std::string_view digits,
                                         Deferred* deferred) {
  APPROVALD_TRY(Admit(c, BearerToken(c.req), false, false));
  c.route = "/api/v1/instances/{id}/actions";
  deferred->handler = ActAsync;
  deferred->args.assign(1, std::string(digits));
  return HttpResponse{};
}

// Puts a handler's answer into `out`: an error becomes its error response
// (logged if it is the server's fault).
void SetAnswer(Call& c, Response& out, Result<HttpResponse> res) {
  if (res) {
    out.msg = std::move(*res);
    return;
  }
  const Error& e = res.error();
  int retry_after_s = 0;
  if (HttpStatusOf(e) == http::status::too_many_requests) {
    retry_after_s = std::max(1, c.retry_after_s);
  }
  if (HttpStatusOf(e) == http::status::internal_server_error ||
      HttpStatusOf(e) == http::status::service_unavailable) {
    spdlog::error("req={} route={} error={}", c.req.request_id, c.route, e.ToString());
  }
  out.msg = Fail(c, e, retry_after_s);
}

// Completes the response of the call `c`: route, user, request id.
Response Seal(Call& c, Response out);

// Routes the call `c` (fresh, or prepared by RouteCached) to its answer.
// With `deferred`, a route with an asynchronous form is left in *deferred
// instead (see DispatchEndpoint), and the response returned is unfinished.
Response RouteCall(Call& c, Deferred* deferred = nullptr) {
  const Request& req = c.req;
  Response out;
  try {
    Result<HttpResponse> res;
    std::string_view action_id;
    if (deferred != nullptr && req.msg.method() == http::verb::post &&
        !(action_id = PlainActionTarget(req.msg.target())).empty()) {
      res = DispatchPlainAction(c, action_id, deferred);
    } else if (auto st = ParseTarget(c); !st) {
      res = std::unexpected(st.error());
    } else {
      res = Dispatch(c, &out, deferred);
    }
    if (deferred != nullptr && deferred->handler != nullptr) return out;
    SetAnswer(c, out, std::move(res));
  } catch (const std::exception& ex) {
    if (deferred != nullptr) deferred->handler = nullptr;
    spdlog::error("req={} route={} exception={}", req.request_id, c.route, ex.what());
    out.msg = Fail(c, Error{ErrorCode::kInternal, "internal", "internal error; see the server log"});
  }
  return Seal(c, std::move(out));
}

Response Seal(Call& c, Response out) {
  const Request& req = c.req;
  out.route = c.route;
  out.user = c.who ? c.who->username : "";
  // Only a WebSocket outlives the request and needs the principal: no copy
  // for the other requests.
  if (c.who && out.upgrade_websocket) out.principal = std::make_shared<const Principal>(*c.who);
  if (!req.request_id.empty()) out.msg.set("X-Request-Id", req.request_id);
  return out;
}

}  // namespace

Response Route(const Request& req, Services& svc) {
  Call c{req, svc, {}, {}, std::nullopt, "(unknown)"};
  return RouteCall(c);
}

void RouteAsync(const Request& req, Services& svc, std::function<void(Response)> done) {
  auto c = std::make_shared<Call>(Call{req, svc, {}, {}, std::nullopt, "(unknown)"});
  Deferred deferred;
  Response out = RouteCall(*c, &deferred);
  if (deferred.handler == nullptr) return done(std::move(out));
  Call& call = *c;
  // `then` owns the call (and so keeps it alive for the handler) until the
  // answer is in.
  auto then = [c = std::move(c), out = std::make_shared<Response>(std::move(out)),
               done = std::move(done)](Result<HttpResponse> res) {
    try {
      SetAnswer(*c, *out, std::move(res));
    } catch (const std::exception& ex) {
      spdlog::error("req={} route={} exception={}", c->req.request_id, c->route, ex.what());
      out->msg =
          Fail(*c, Error{ErrorCode::kInternal, "internal", "internal error; see the server log"});
    }
    done(Seal(*c, std::move(*out)));
  };
  deferred.handler(call, deferred.args, std::move(then));
}

namespace {

// The id in a target "/api/v1/instances/" followed by 1 to 18 digits: what
// ParseTarget and the endpoint table make of it (a plain target, nothing to
// decode), found without them. nullopt for any other target.
std::optional<InstanceId> PlainInstanceTarget(std::string_view target) {
  if (!target.starts_with(kInstancesPrefix)) return std::nullopt;
  std::string_view digits = target.substr(kInstancesPrefix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  if (v <= 0) return std::nullopt;
  return InstanceId{v};
}

// The instance a GET of `c`'s target reads, if that is all the target says
// (no query); ParseTarget's view of it, with a shortcut for plain targets.
std::optional<InstanceId> InstanceReadTarget(Call& c) {
  if (auto id = PlainInstanceTarget(c.req.msg.target())) return id;
  if (!ParseTarget(c)) return std::nullopt;
  const auto& s = c.segs;
  if (s.size() != 4 || s[0] != "api" || s[1] != "v1" || s[2] != "instances" ||
      !c.query.empty())
    return std::nullopt;
  auto id = IdSegment(s[3]);
  if (!id) return std::nullopt;
  return *id;
}

}  // namespace

std::optional<Response> RouteCached(const Request& req, Services& svc) {
  if (req.msg.method() != http::verb::get) return std::nullopt;
  Call c{req, svc, {}, {}, std::nullopt, "(unknown)"};
  auto id = InstanceReadTarget(c);
  if (!id) return std::nullopt;
  auto who = svc.auth.AuthenticateCached(BearerToken(req));
  if (!who) return std::nullopt;
  auto view = svc.engine.GetCachedShared(*id, who->person);
  if (!view) return std::nullopt;
  // Attachment names need the store: Route answers. The head cache knows
  // whether the form holds any, without walking it again, and gives the head
  // in the same look-up.
  auto org = svc.engine.org();
  std::string body;
  body.reserve(4096);
  using Found = ViewHeadCache::Found;
  Found head = svc.view_heads
                   ? svc.view_heads->AppendUnlessAttachments(view->snapshot, org, &body)
                   : Found::kNone;
  if (head == Found::kAttachments) return std::nullopt;
  if (head == Found::kNone && !AttachmentAddresses(view->snapshot->state.form).empty())
    return std::nullopt;
  c.who = std::move(*who);
  // What RouteCall, Dispatch and GetInstance do for this request, without
  // the route table: the rate, then the visibility, then the answer.
  Response out;
  try {
    Result<HttpResponse> res;
    if (auto st = CheckRate(c); !st) {
      res = std::unexpected(st.error());
    } else {
      c.route = "/api/v1/instances/{id}";
      if (!Visible(c, view->snapshot->state)) {
        res = InstanceNotVisible(*id);
      } else {
        res = InstanceReadResponse(c, InstanceReadBody(c, *view, org, {}, false, std::move(body),
                                                       head == Found::kAppended));
      }
    }
    SetAnswer(c, out, std::move(res));
  } catch (const std::exception& ex) {
    spdlog::error("req={} route={} exception={}", req.request_id, c.route, ex.what());
    out.msg = Fail(c, Error{ErrorCode::kInternal, "internal", "internal error; see the server log"});
  }
  return Seal(c, std::move(out));
}

}  // namespace approvald::api
