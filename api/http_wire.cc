#include "api/http_wire.h"

namespace approvald::api {

void AppendResponseHead(const boost::beast::http::response_header<>& msg, std::string* out) {
  unsigned version = msg.version();
  unsigned code = msg.result_int();
  const char start[13] = {'H',
                          'T',
                          'T',
                          'P',
                          '/',
                          static_cast<char>('0' + version / 10),
                          '.',
                          static_cast<char>('0' + version % 10),
                          ' ',
                          static_cast<char>('0' + code / 100),
                          static_cast<char>('0' + (code / 10) % 10),
                          static_cast<char>('0' + code % 10),
                          ' '};
  out->append(start, sizeof start);
  auto reason = msg.reason();
  out->append(reason.data(), reason.size());
  out->append("\r\n");
  for (const auto& f : msg) {
    auto name = f.name_string();
    auto value = f.value();
    out->append(name.data(), name.size());
    out->append(": ");
    out->append(value.data(), value.size());
    out->append("\r\n");
  }
  out->append("\r\n");
}

}  // namespace approvald::api
