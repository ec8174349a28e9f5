// The router: one request in, one response out. A plain function over the
// services it is handed, so tests call it without sockets (Beast's
// handle_request). It authenticates, checks the role and the per-user rate,
// decodes JSON into engine commands and encodes results; it holds no
// business rules: the engine decides, api/http_errors.cc maps its errors.
//
// Routes (the OpenAPI document api/openapi.json describes each):
//   GET  /healthz                         GET /metrics
//   GET  /api/v1/openapi.json
//   POST /api/v1/auth/login               POST /api/v1/auth/logout
//   GET  /api/v1/me                       GET /api/v1/org     PUT /api/v1/org (admin)
//   GET  /api/v1/users (admin)            POST /api/v1/users (admin)
//   PATCH /api/v1/users/{username} (admin)
//   GET  /api/v1/workflows                GET /api/v1/workflows/{id}
//   POST /api/v1/instances                GET /api/v1/instances
//   GET  /api/v1/instances/{id}           GET /api/v1/instances/{id}/events
//   POST /api/v1/instances/{id}/actions
//   GET  /api/v1/tasks
//   POST /api/v1/attachments              GET /api/v1/attachments/{hash}
//   GET  /api/v1/audit                    GET /api/v1/audit/checkpoint
//   GET  /api/v1/audit/proof/inclusion    GET /api/v1/audit/proof/consistency
//   GET  /api/v1/ws  (WebSocket upgrade; the server does the upgrade)
#ifndef APPROVALD_API_ROUTER_H_
#define APPROVALD_API_ROUTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "api/auth.h"
#include "api/http_types.h"
#include "api/limits.h"
#include "api/metrics.h"
#include "api/view_head_cache.h"
#include "audit/checkpoint.h"
#include "approvald/clock.h"
#include "approvald/store.h"
#include "service/engine.h"

namespace approvald::api {

struct ApiOptions {
  // Largest attachment accepted by POST /api/v1/attachments (bounded by the
  // body limit too).
  int64_t max_attachment_bytes = 1024 * 1024;
  // Where PUT /api/v1/org writes the new organisation; "" = memory only.
  std::string org_file;
  // The audit log's identity (origin and public key), served with
  // checkpoints so auditors can pin it. Unset: checkpoints served unsigned-by-us.
  std::optional<audit::LogKey> log_key;
  // Largest page of list endpoints.
  int max_page = 500;
  // Directory of the built web UI, served at every path outside /api/,
  // /healthz and /metrics (api/static_files.h); "" = no UI (those paths 404).
  std::string web_root;
};

// What the router works with. Every reference must outlive the calls.
struct Services {
  Engine& engine;
  Store& store;
  AuthService& auth;
  RateLimiter& limiter;
  Metrics& metrics;
  const Clock& clock;
  const ApiOptions& options;
  // A monotonic millisecond clock for rate limiting.
  std::function<int64_t()> monotonic_ms;
  // Set while the daemon drains for shutdown: /healthz answers 503.
  const std::atomic<bool>* draining = nullptr;
  // The viewer-independent heads of instance views, for
  // GET /api/v1/instances/{id}; null: written anew for each request.
  std::shared_ptr<ViewHeadCache> view_heads = std::make_shared<ViewHeadCache>();
};

// Answers one request. Never throws; an unexpected exception becomes a 500
// with the error shape.
Response Route(const Request& req, Services& services);

// Route for a caller that need not wait on the store: calls `done` exactly
// once with the response Route would have returned. The routes that end in
// a durable commit (POST /api/v1/instances, POST
// /api/v1/instances/{id}/actions) go through Engine::SubmitAsync /
// ActAsync: authentication, role, rate limit and decoding run now, on the
// calling thread, and `done` runs later on the engine's executor once the
// change is durable, so the calling thread is free meanwhile. Every other
// request is answered by Route before RouteAsync returns.
// REQUIRES: `req` and `services` stay valid until `done` has run.
void RouteAsync(const Request& req, Services& services, std::function<void(Response)> done);

// Route for the requests that can be answered from memory alone, so the
// network thread may answer them without handing them to a worker: today
// GET /api/v1/instances/{id} when the session and the instance's state are
// cached (AuthService::AuthenticateCached, Engine::GetCached) and the form
// names no attachment. nullopt when the request needs anything else: then
// call Route, which answers exactly as this would have (nothing was counted
// against the caller's rate limit).
std::optional<Response> RouteCached(const Request& req, Services& services);

// Ok if `who` may see instance `id` (auditors see all; others what
// Engine::CanView allows); kNotFound ("instance_not_found") otherwise, the
// same answer as for a missing instance. For WebSocket subscriptions.
Status CheckVisible(Services& services, const Principal& who, InstanceId id);

// The OpenAPI 3.1 document (api/openapi.json, embedded at build time).
std::string_view OpenApiDocument();

}  // namespace approvald::api

#endif  // APPROVALD_API_ROUTER_H_
