// Ed25519 keys and signed checkpoints (checkpoint.h). All cryptography is
// OpenSSL's EVP interface; this file only frames bytes around it.
#include "audit/checkpoint.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "audit/encoding.h"

namespace approvald::audit {
namespace {

constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // "— "
constexpr uint8_t kEd25519AlgorithmId = 0x01;  // signed-note algorithm byte
constexpr size_t kMaxCheckpointText = 64 * 1024;

// The newest OpenSSL error as text, clearing the queue.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* p) {
  return std::shared_ptr<EVP_PKEY>(p, PkeyDeleter());
}

bool IsEd25519(EVP_PKEY* p) { return p && EVP_PKEY_is_a(p, "ED25519") == 1; }

BioPtr MemBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

Result<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) {
      return NotFound("key_file_missing",
                      std::string(what) + " file " + path + " does not exist");
    }
    return Unavailable("key_file_unreadable", "cannot read " + std::string(what) +
                                                  " file " + path + ": " +
                                                  std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("key_file_write",
                         "writing " + path + " failed: " + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

std::string_view NextLine(std::string_view* text, bool* ok) {
  size_t nl = text->find('\n');
  if (nl == std::string_view::npos) {
    *ok = false;
    return {};
  }
  std::string_view line = text->substr(0, nl);
  text->remove_prefix(nl + 1);
  return line;
}

std::unexpected<Error> BadCheckpoint(const std::string& why) {
  return InvalidArgument("bad_checkpoint", "checkpoint text: " + why);
}

// Canonical non-negative decimal: "0" or no leading zero, fits int64.
std::optional<int64_t> ParseSize(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------
// PublicKey

Result<PublicKey> PublicKey::FromRaw(std::string_view raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return InvalidArgument("bad_public_key", "an Ed25519 public key is 32 bytes, got " +
                                                 std::to_string(raw.size()));
  }
  EVP_PKEY* p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                            reinterpret_cast<const uint8_t*>(raw.data()),
                                            raw.size());
  if (!p) {
    return InvalidArgument("bad_public_key",
                           "not an Ed25519 public key: " + OpenSslError());
  }
  PublicKey k;
  k.pkey_ = Own(p);
  k.raw_ = std::string(raw);
  return k;
}

Result<PublicKey> PublicKey::FromBase64(std::string_view b64) {
  auto raw = Base64Decode(b64);
  if (!raw) {
    return InvalidArgument("bad_public_key", "public key is not canonical base64: " +
                                                 std::string(b64.substr(0, 80)));
  }
  return FromRaw(*raw);
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EVP_PKEY* p = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!p) {
    return InvalidArgument("bad_public_key",
                           "no PEM public key found (expected \"-----BEGIN "
                           "PUBLIC KEY-----\"): " +
                               OpenSslError());
  }
  auto owned = Own(p);
  if (!IsEd25519(p)) {
    return InvalidArgument("bad_public_key", "the PEM public key is not an Ed25519 key");
  }
  uint8_t raw[kEd25519PublicKeySize];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(p, raw, &len) != 1 || len != sizeof raw) {
    return InvalidArgument("bad_public_key",
                           "cannot read the Ed25519 key: " + OpenSslError());
  }
  PublicKey k;
  k.pkey_ = std::move(owned);
  k.raw_.assign(reinterpret_cast<const char*>(raw), len);
  return k;
}

Result<PublicKey> PublicKey::LoadPem(const std::string& path) {
  auto text = ReadFile(path, "public key");
  if (!text) return std::unexpected(text.error());
  auto key = FromPem(*text);
  if (!key) {
    Error e = key.error();
    e.message = path + ": " + e.message;
    return std::unexpected(e);
  }
  return key;
}

std::string PublicKey::Base64() const { return Base64Encode(raw_); }

std::string PublicKey::Pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !pkey_ || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    ERR_clear_error();
    return {};
  }
  return BioContents(bio.get());
}

bool PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (!pkey_ || signature.size() != kEd25519SignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const uint8_t*>(signature.data()), signature.size(),
      reinterpret_cast<const uint8_t*>(message.data()), message.size());
  ERR_clear_error();
  return rc == 1;
}

// ---------------------------------------------------------------------------
// SigningKey

Result<SigningKey> SigningKey::Generate() {
  EVP_PKEY* p = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!p) {
    return MakeError(ErrorCode::kInternal, "keygen_failed",
                     "Ed25519 key generation failed: " + OpenSslError());
  }
  SigningKey k;
  k.pkey_ = Own(p);
  uint8_t raw[kEd25519PublicKeySize];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(p, raw, &len) != 1) {
    return MakeError(ErrorCode::kInternal, "keygen_failed", OpenSslError());
  }
  auto pub =
      PublicKey::FromRaw(std::string_view(reinterpret_cast<const char*>(raw), len));
  if (!pub) return std::unexpected(pub.error());
  k.public_ = *pub;
  return k;
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EVP_PKEY* p =
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!p) {
    return InvalidArgument("bad_private_key",
                           "no PEM private key found (expected \"-----BEGIN "
                           "PRIVATE KEY-----\"): " +
                               OpenSslError());
  }
  auto owned = Own(p);
  if (!IsEd25519(p)) {
    return InvalidArgument("bad_private_key", "the private key is not an Ed25519 key");
  }
  uint8_t raw[kEd25519PublicKeySize];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(p, raw, &len) != 1 || len != sizeof raw) {
    return InvalidArgument("bad_private_key", OpenSslError());
  }
  auto pub =
      PublicKey::FromRaw(std::string_view(reinterpret_cast<const char*>(raw), len));
  if (!pub) return std::unexpected(pub.error());
  SigningKey k;
  k.pkey_ = std::move(owned);
  k.public_ = *pub;
  return k;
}

Result<SigningKey> SigningKey::LoadPem(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return NotFound("key_file_missing", "signing key file " + path + " does not exist");
    }
    return Unavailable("key_file_unreadable",
                       "cannot stat " + path + ": " + std::strerror(errno));
  }
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return MakeError(ErrorCode::kPermissionDenied, "key_file_mode",
                     "signing key file " + path + " has mode " + mode +
                         "; others must not read it. Fix: chmod 600 " + path);
  }
  auto text = ReadFile(path, "signing key");
  if (!text) return std::unexpected(text.error());
  auto key = FromPem(*text);
  if (!key) {
    Error e = key.error();
    e.message = path + ": " + e.message;
    return std::unexpected(e);
  }
  return key;
}

std::string SigningKey::Pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !pkey_ ||
      PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return BioContents(bio.get());
}

Status SigningKey::SavePem(const std::string& path) const {
  std::string pem = Pem();
  if (pem.empty()) {
    return MakeError(ErrorCode::kInternal, "key_encode",
                     "cannot encode the signing key as PEM");
  }
  // O_EXCL: never replace an existing key (that would orphan every
  // checkpoint signed with it). Mode 0600 from creation, so there is no
  // window in which another user could open the file.
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return MakeError(ErrorCode::kConflict, "key_file_exists",
                       "refusing to overwrite the existing key file " + path);
    }
    return Unavailable("key_file_create",
                       "cannot create " + path + ": " + std::strerror(errno));
  }
  Status s = WriteAll(fd, pem, path);
  if (s && ::fsync(fd) != 0) {
    s = Unavailable("key_file_sync",
                    "fsync of " + path + " failed: " + std::strerror(errno));
  }
  ::close(fd);
  if (!s) {
    ::unlink(path.c_str());
    return s;
  }
  // Make the new directory entry durable too.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok();
}

Result<SigningKey> SigningKey::LoadOrCreate(const std::string& path, bool* created) {
  if (created) *created = false;
  auto loaded = LoadPem(path);
  if (loaded || loaded.error().reason != "key_file_missing") return loaded;
  auto key = Generate();
  if (!key) return key;
  if (auto s = key->SavePem(path); !s) return std::unexpected(s.error());
  if (created) *created = true;
  return key;
}

Result<std::string> SigningKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(kEd25519SignatureSize, '\0');
  size_t len = sig.size();
  if (!ctx || !pkey_ ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<uint8_t*>(sig.data()), &len,
                     reinterpret_cast<const uint8_t*>(message.data()),
                     message.size()) != 1 ||
      len != kEd25519SignatureSize) {
    return MakeError(ErrorCode::kInternal, "sign_failed",
                     "Ed25519 signing failed: " + OpenSslError());
  }
  return sig;
}

// ---------------------------------------------------------------------------
// Checkpoints

Status ValidateOrigin(std::string_view origin) {
  bool ok = !origin.empty() && origin.size() <= 256;
  for (char c : origin) {
    if (c <= ' ' || c > '~' || c == '+') ok = false;
  }
  if (!ok) {
    return InvalidArgument(
        "bad_origin",
        "log origin \"" + std::string(origin.substr(0, 80)) +
            "\" must be 1..256 printable ASCII characters without spaces or "
            "'+', e.g. approvald/finance-office");
  }
  return Ok();
}

std::string KeyId(std::string_view origin, const PublicKey& key) {
  std::string material(origin);
  material.push_back('\n');
  material.push_back(static_cast<char>(kEd25519AlgorithmId));
  material.append(key.raw());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(material.data(), material.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), 4);
}

std::string VerifierKey(const LogKey& key) {
  std::string alg_key(1, static_cast<char>(kEd25519AlgorithmId));
  alg_key.append(key.key.raw());
  return key.origin + "+" + HexEncode(KeyId(key.origin, key.key)) + "+" +
         Base64Encode(alg_key);
}

Result<LogKey> ParseVerifierKey(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("bad_verifier_key",
                           "verifier key \"" + std::string(text.substr(0, 120)) +
                               "\": " + why + " (expected <origin>+<8 hex>+<base64>)");
  };
  if (text.ends_with('\n')) text.remove_suffix(1);
  // The origin has no '+', the key id is 8 hex digits; the base64 that
  // follows may itself contain '+'.
  size_t p1 = text.find('+');
  if (p1 == std::string_view::npos || text.size() < p1 + 10 || text[p1 + 9] != '+') {
    return bad("it must be <origin>+<8 hex digits>+<base64>");
  }
  std::string_view origin = text.substr(0, p1);
  std::string_view id_hex = text.substr(p1 + 1, 8);
  std::string_view b64 = text.substr(p1 + 10);
  if (!ValidateOrigin(origin)) return bad("the name is not a valid origin");
  auto alg_key = Base64Decode(b64);
  if (!alg_key || alg_key->size() != 1 + kEd25519PublicKeySize ||
      static_cast<uint8_t>((*alg_key)[0]) != kEd25519AlgorithmId) {
    return bad("the key is not base64 of 0x01 followed by 32 bytes");
  }
  auto pub = PublicKey::FromRaw(std::string_view(*alg_key).substr(1));
  if (!pub) return bad(pub.error().message);
  LogKey key{std::string(origin), *pub};
  if (id_hex != HexEncode(KeyId(origin, *pub))) {
    return bad("the key id does not match the name and key");
  }
  return key;
}

std::string CheckpointBody(std::string_view origin, const Checkpoint& cp) {
  std::string out(origin);
  out.push_back('\n');
  out.append(std::to_string(cp.size)).push_back('\n');
  out.append(Base64Encode(HashBytes(cp.root))).push_back('\n');
  out.append("time ").append(FormatTimestampUtc(cp.at)).push_back('\n');
  return out;
}

Result<Checkpoint> SignCheckpoint(const SigningKey& key, std::string_view origin,
                                  int64_t size, const Hash& root, Timestamp at) {
  if (auto s = ValidateOrigin(origin); !s) return std::unexpected(s.error());
  if (size < 0) {
    return InvalidArgument("bad_tree_size",
                           "checkpoint size must be >= 0, got " + std::to_string(size));
  }
  Checkpoint cp;
  cp.size = size;
  cp.root = root;
  cp.at = at;
  auto sig = key.Sign(CheckpointBody(origin, cp));
  if (!sig) return std::unexpected(sig.error());
  cp.signature = std::move(*sig);
  return cp;
}

bool VerifyCheckpoint(const LogKey& key, const Checkpoint& cp) {
  if (cp.size < 0) return false;
  return key.key.Verify(CheckpointBody(key.origin, cp), cp.signature);
}

std::string FormatSignedCheckpoint(const LogKey& key, const Checkpoint& cp) {
  std::string out = CheckpointBody(key.origin, cp);
  out.push_back('\n');
  out.append(kSignaturePrefix).append(key.origin).push_back(' ');
  out.append(Base64Encode(KeyId(key.origin, key.key) + cp.signature));
  out.push_back('\n');
  return out;
}

Result<Checkpoint> ParseSignedCheckpoint(std::string_view text, const LogKey& key) {
  if (text.size() > kMaxCheckpointText) return BadCheckpoint("too long");
  std::string_view rest = text;
  bool ok = true;
  std::string_view origin = NextLine(&rest, &ok);
  std::string_view size_line = NextLine(&rest, &ok);
  std::string_view root_line = NextLine(&rest, &ok);
  std::string_view time_line = NextLine(&rest, &ok);
  std::string_view blank = NextLine(&rest, &ok);
  if (!ok) return BadCheckpoint("it ends before the signature lines");
  if (origin != key.origin) {
    return BadCheckpoint("origin \"" + std::string(origin.substr(0, 80)) +
                         "\" is not this log's \"" + key.origin + "\"");
  }
  Checkpoint cp;
  auto size = ParseSize(size_line);
  if (!size) return BadCheckpoint("line 2 is not a canonical tree size");
  cp.size = *size;
  auto root = HashFromBase64(root_line);
  if (!root) return BadCheckpoint("line 3 is not a base64 32-byte root hash");
  cp.root = *root;
  if (!time_line.starts_with("time ")) {
    return BadCheckpoint("line 4 must be \"time <UTC ISO 8601>\"");
  }
  auto at = ParseTimestamp(time_line.substr(5));
  if (!at || FormatTimestampUtc(*at) != time_line.substr(5)) {
    return BadCheckpoint("line 4 has no canonical UTC time");
  }
  cp.at = *at;
  if (!blank.empty()) {
    return BadCheckpoint("the body must be exactly four lines and a blank line");
  }
  const std::string want_id = KeyId(key.origin, key.key);
  bool found = false;
  int signatures = 0;
  while (!rest.empty()) {
    std::string_view line = NextLine(&rest, &ok);
    if (!ok) return BadCheckpoint("the last signature line has no newline");
    if (!line.starts_with(kSignaturePrefix)) {
      return BadCheckpoint("a signature line must start with \"— \"");
    }
    line.remove_prefix(kSignaturePrefix.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) {
      return BadCheckpoint("a signature line must be \"— <name> <base64>\"");
    }
    auto blob = Base64Decode(line.substr(space + 1));
    if (!blob || blob->size() < 5) {
      return BadCheckpoint("a signature is not base64 of key id + signature");
    }
    ++signatures;
    if (line.substr(0, space) != key.origin || blob->substr(0, 4) != want_id) {
      continue;  // another signer (a witness); not ours to check
    }
    if (found) return BadCheckpoint("the log's signature appears twice");
    found = true;
    cp.signature = blob->substr(4);
  }
  if (signatures == 0) return BadCheckpoint("it has no signature line");
  if (!found) {
    return MakeError(ErrorCode::kPermissionDenied, "checkpoint_signature",
                     "checkpoint carries no signature by key " + VerifierKey(key));
  }
  if (!VerifyCheckpoint(key, cp)) {
    return MakeError(
        ErrorCode::kPermissionDenied, "checkpoint_signature",
        "checkpoint signature does not verify under key " + VerifierKey(key));
  }
  return cp;
}

}  // namespace approvald::audit
