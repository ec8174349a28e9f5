// A response's bytes on the wire without Beast's serializer: the header as
// one contiguous block, so that a response with a body in one piece goes out
// as two buffers (one sendmsg) instead of a buffer per header field walked
// by the serializer's iterators on every write.
#ifndef APPROVALD_API_HTTP_WIRE_H_
#define APPROVALD_API_HTTP_WIRE_H_

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

namespace approvald::api {

// Appends to `out` the header of `msg` exactly as Beast's serializer writes
// it: "HTTP/X.Y ### reason\r\n", every field "Name: value\r\n" in order, and
// "\r\n". Followed by the body, unless the message is chunked, that is the
// whole message as http::write sends it.
void AppendResponseHead(const boost::beast::http::response_header<>& msg, std::string* out);

}  // namespace approvald::api

#endif  // APPROVALD_API_HTTP_WIRE_H_
