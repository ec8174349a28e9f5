#include "api/static_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "api/http_errors.h"
#include "approvald/status.h"

namespace approvald::api {
namespace {

namespace fs = std::filesystem;
using HttpResponse = http::response<http::string_body>;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

std::string_view Extension(std::string_view filename) {
  auto dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return filename.substr(dot + 1);
}

void SetSecurityHeaders(HttpResponse& res) {
  res.set("Content-Security-Policy", kUiContentSecurityPolicy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
}

HttpResponse Refuse(const http::request<http::string_body>& req, const Error& e) {
  HttpResponse res = ErrorResponse(e, req.version(), req.keep_alive());
  SetSecurityHeaders(res);
  return res;
}

HttpResponse NotFoundFile(const http::request<http::string_body>& req, const std::string& msg) {
  return Refuse(req, Error{ErrorCode::kNotFound, "file_not_found", msg});
}

// A segment that may name a file: no traversal, no hidden files, no
// separators or NUL smuggled in by percent-encoding.
bool SafeSegment(const std::string& s) {
  if (s.empty() || s.front() == '.') return false;
  return s.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
}

// True if `path` is `root` or below it (both canonical).
bool Within(const fs::path& root, const fs::path& path) {
  auto r = root.begin();
  auto p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (p == path.end() || *r != *p) return false;
  }
  return true;
}

}  // namespace

std::string_view ContentTypeFor(std::string_view filename) {
  std::string ext = Lower(Extension(filename));
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "webmanifest") return "application/manifest+json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool IsHashedAssetName(std::string_view filename) {
  auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view stem = filename.substr(0, dot);
  auto dash = stem.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  std::string_view hash = stem.substr(dash + 1);
  if (hash.size() < 8) return false;
  return std::all_of(hash.begin(), hash.end(), [](unsigned char ch) {
    return std::isalnum(ch) != 0;
  });
}

HttpResponse ServeStaticFile(const std::string& root, const http::request<http::string_body>& req,
                             const std::vector<std::string>& segments) {
  const http::verb m = req.method();
  if (m != http::verb::get && m != http::verb::head) {
    HttpResponse res = Refuse(req, Error{ErrorCode::kInvalidArgument, api_reason::kMethodNotAllowed,
                                         "the web UI's files allow GET, HEAD"});
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  std::error_code ec;
  fs::path base = root.empty() ? fs::path() : fs::canonical(root, ec);
  if (root.empty() || ec || !fs::is_directory(base, ec)) {
    return NotFoundFile(req, "the web UI is not available: web_root '" + root +
                                 "' is not a directory; build it (make build) or set web_root "
                                 "in the daemon's config");
  }
  fs::path rel;
  for (const auto& s : segments) {
    if (!SafeSegment(s)) return NotFoundFile(req, "no such file");
    rel /= s;
  }
  if (segments.empty()) rel = "index.html";
  fs::path path = fs::canonical(base / rel, ec);
  if (ec || !Within(base, path)) return NotFoundFile(req, "no such file: /" + rel.generic_string());
  if (!fs::is_regular_file(path, ec)) {
    return NotFoundFile(req, "no such file: /" + rel.generic_string());
  }
  auto size = fs::file_size(path, ec);
  if (ec) return NotFoundFile(req, "no such file: /" + rel.generic_string());
  if (size > static_cast<uintmax_t>(kMaxStaticFileBytes)) {
    return NotFoundFile(req, "file too large to serve (over " +
                                 std::to_string(kMaxStaticFileBytes) + " bytes)");
  }
  auto mtime = fs::last_write_time(path, ec);
  std::string etag = "\"" + std::to_string(size) + "-" +
                     std::to_string(ec ? 0 : mtime.time_since_epoch().count()) + "\"";
  const std::string name = path.filename().string();

  HttpResponse res{http::status::ok, req.version()};
  res.keep_alive(req.keep_alive());
  SetSecurityHeaders(res);
  res.set(http::field::etag, etag);
  res.set(http::field::cache_control, IsHashedAssetName(name)
                                          ? "public, max-age=31536000, immutable"
                                          : "no-cache");
  auto inm = req.find(http::field::if_none_match);
  if (inm != req.end() && inm->value() == etag) {
    res.result(http::status::not_modified);
    res.prepare_payload();
    return res;
  }
  res.set(http::field::content_type, ContentTypeFor(name));
  if (m == http::verb::head) {
    res.content_length(size);
    return res;
  }
  std::ifstream in(path, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return NotFoundFile(req, "cannot read /" + rel.generic_string());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace approvald::api
