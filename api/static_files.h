// The browser UI's static files (web/, built by esbuild into a web root),
// served by `approvald serve` at every path outside /api, /healthz and
// /metrics.
//
// Contract:
//   - GET and HEAD only (anything else: 405 with Allow: GET, HEAD).
//   - "/" is index.html; other paths name a file under the root. Segments
//     that are empty, ".", "..", hidden (".x"), or contain '/', '\\' or NUL
//     are refused (404), and a path whose real location (symlinks resolved)
//     leaves the root is refused too: nothing outside the root is ever read.
//   - Content-Type from the extension (html, js, css, json, svg, png, ico,
//     woff2, map, txt, webmanifest; anything else application/octet-stream).
//   - Caching: a content-hashed asset ("app-3F2KQ7XZ.js": a '-' and at least
//     8 letters or digits before the extension) is immutable for a year;
//     everything else (index.html above all) is "no-cache" and revalidated
//     with a strong ETag (If-None-Match: 304).
//   - Every answer carries a Content-Security-Policy that allows scripts,
//     styles, images and connections (HTTP and WebSocket) from the daemon's
//     own origin only (no inline script, no eval, no framing), plus
//     X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer.
//   - Missing files: 404 in the API's JSON error shape (code
//     "file_not_found"); a missing or unset root says the UI is not built.
#ifndef APPROVALD_API_STATIC_FILES_H_
#define APPROVALD_API_STATIC_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace approvald::api {

// The policy sent with every UI response.
inline constexpr const char* kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Files larger than this are not served from the web root (the UI's files
// are a few hundred KiB); 404 naming the limit.
inline constexpr int64_t kMaxStaticFileBytes = 32 << 20;

// The Content-Type for a file name, by its extension (case-insensitive).
std::string_view ContentTypeFor(std::string_view filename);

// True if `filename` looks content-hashed ("name-HASH.ext", HASH at least 8
// ASCII letters or digits), so it may be cached for a year.
bool IsHashedAssetName(std::string_view filename);

// Answers `req` for the decoded path `segments` from the files under `root`.
// Never throws; never reads outside `root`.
http::response<http::string_body> ServeStaticFile(
    const std::string& root, const http::request<http::string_body>& req,
    const std::vector<std::string>& segments);

}  // namespace approvald::api

#endif  // APPROVALD_API_STATIC_FILES_H_
