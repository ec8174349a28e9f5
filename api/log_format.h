// The JSON log format (log.format: json): one JSON object per line, for log
// collectors. Every line has "time" (UTC, ISO 8601 with milliseconds),
// "level", "logger" and "msg" (the whole message text), plus one string field
// per `key=value` pair of the message, so a request line
//   request req=1f remote=127.0.0.1 user=zhang_min method=GET route=/x status=200 ms=0.42
// also carries "req", "remote", "user", "method", "route", "status" and "ms".
// A value runs to the next " key=" (so `err=database is locked` keeps its
// spaces). Keys that would replace time/level/logger/msg are left in "msg"
// only. Output is always valid JSON and valid UTF-8: quotes, backslashes and
// control characters are escaped, bytes that are not UTF-8 become U+FFFD.
#ifndef APPROVALD_API_LOG_FORMAT_H_
#define APPROVALD_API_LOG_FORMAT_H_

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace approvald::api {

// The `key=value` pairs of a log message, in order (see above). Keys are
// [a-z0-9_]+ starting with a letter, preceded by a space or the start.
std::vector<std::pair<std::string_view, std::string_view>> LogFields(
    std::string_view msg);

// Appends `s` to *out as a JSON string literal (with the quotes).
void AppendJsonString(std::string_view s, std::string* out);

// An spdlog formatter writing the JSON line described above.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace approvald::api

#endif  // APPROVALD_API_LOG_FORMAT_H_
