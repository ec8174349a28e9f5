#include "api/log_format.h"

#include <spdlog/details/log_msg.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "approvald/utf8.h"

namespace approvald::api {

namespace {

bool IsKeyStart(char c) { return c >= 'a' && c <= 'z'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> LogFields(
    std::string_view msg) {
  // Where each key starts and where its '=' is.
  std::vector<std::pair<size_t, size_t>> keys;
  for (size_t i = 0; i < msg.size(); ++i) {
    if ((i > 0 && msg[i - 1] != ' ') || !IsKeyStart(msg[i])) continue;
    size_t j = i + 1;
    while (j < msg.size() && IsKeyChar(msg[j])) ++j;
    if (j < msg.size() && msg[j] == '=') {
      keys.emplace_back(i, j);
      i = j;
    }
  }
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (size_t k = 0; k < keys.size(); ++k) {
    size_t value_start = keys[k].second + 1;
    size_t value_end = k + 1 < keys.size() ? keys[k + 1].first - 1 : msg.size();
    out.emplace_back(msg.substr(keys[k].first, keys[k].second - keys[k].first),
                     msg.substr(value_start, value_end - value_start));
  }
  return out;
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\n':
          *out += "\\n";
          break;
        case '\r':
          *out += "\\r";
          break;
        case '\t':
          *out += "\\t";
          break;
        default:
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
      }
      ++i;
    } else if (size_t n = Utf8SequenceLength(s, i); n > 0) {
      out->append(s.substr(i, n));
      i += n;
    } else {
      *out += "\\ufffd";  // not UTF-8: the replacement character
      ++i;
    }
  }
  out->push_back('"');
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg,
                              spdlog::memory_buf_t& dest) {
  std::string line;
  line.reserve(msg.payload.size() * 2 + 96);
  // Time in UTC, like every timestamp inside the daemon.
  auto since_epoch = msg.time.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - secs).count();
  std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[96];  // room for any int the compiler can imagine
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, static_cast<int>(ms));
  line += "{\"time\":\"";
  line += when;
  line += "\",\"level\":";
  auto level = spdlog::level::to_string_view(msg.level);
  AppendJsonString(std::string_view(level.data(), level.size()), &line);
  line += ",\"logger\":";
  AppendJsonString(std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                   &line);
  std::string_view text(msg.payload.data(), msg.payload.size());
  line += ",\"msg\":";
  AppendJsonString(text, &line);
  std::vector<std::string_view> seen;
  for (const auto& [key, value] : LogFields(text)) {
    if (key == "time" || key == "level" || key == "logger" || key == "msg") continue;
    bool dup = false;
    for (auto s : seen) dup |= s == key;
    if (dup) continue;  // the first one wins; all of them are in "msg"
    seen.push_back(key);
    line.push_back(',');
    AppendJsonString(key, &line);
    line.push_back(':');
    AppendJsonString(value, &line);
  }
  line += "}\n";
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace approvald::api
