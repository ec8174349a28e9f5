// Base64 via OpenSSL's EVP block codec. EVP_DecodeBlock is lenient (it skips
// surrounding whitespace and reports padding as zero bytes), so strictness
// comes from a round trip: a text is accepted only if it is exactly what
// Base64Encode makes of the bytes it decodes to.
#include "audit/encoding.h"

#include <openssl/evp.h>

#include <cstring>

namespace approvald::audit {

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (out.empty()) return out;
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  if (static_cast<size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  if (Base64Encode(out) != text) return std::nullopt;
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string HashHex(const Hash& h) { return HexEncode(HashBytes(h)); }

std::optional<Hash> HashFromBytes(std::string_view bytes) {
  Hash h{};
  if (bytes.size() != h.size()) return std::nullopt;
  std::memcpy(h.data(), bytes.data(), h.size());
  return h;
}

std::optional<Hash> HashFromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes) return std::nullopt;
  return HashFromBytes(*bytes);
}

std::optional<Hash> HashFromBase64(std::string_view b64) {
  auto bytes = Base64Decode(b64);
  if (!bytes) return std::nullopt;
  return HashFromBytes(*bytes);
}

}  // namespace approvald::audit
