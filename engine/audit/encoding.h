// Byte encodings used by the audit formats: standard base64 (RFC 4648 §4,
// with padding) and lower-case hex, plus Hash <-> bytes helpers.
#ifndef APPROVALD_AUDIT_ENCODING_H_
#define APPROVALD_AUDIT_ENCODING_H_

#include <optional>
#include <string>
#include <string_view>

#include "approvald/store.h"  // Hash

namespace approvald::audit {

std::string Base64Encode(std::string_view bytes);
// Strict: only the canonical encoding of some byte string is accepted (the
// standard alphabet, '=' padding to a multiple of 4, no whitespace, zero
// unused bits). Anything else yields nullopt.
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view bytes);
// Accepts upper- and lower-case digits; nullopt on odd length or non-hex.
std::optional<std::string> HexDecode(std::string_view text);

inline std::string_view HashBytes(const Hash& h) {
  return std::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}
std::string HashHex(const Hash& h);
// nullopt unless `bytes` is exactly 32 bytes long.
std::optional<Hash> HashFromBytes(std::string_view bytes);
std::optional<Hash> HashFromHex(std::string_view hex);
std::optional<Hash> HashFromBase64(std::string_view b64);

}  // namespace approvald::audit

#endif  // APPROVALD_AUDIT_ENCODING_H_
