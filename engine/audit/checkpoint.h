// Signed checkpoints of the audit log: Ed25519 keys (OpenSSL) and the
// checkpoint text in the C2SP tlog-checkpoint / signed-note form
// (docs/AUDIT.md, "Checkpoints"):
//
//   approvald/<unit>\n                 origin: names the log
//   1234\n                             tree size, decimal
//   <base64 root hash>\n               RFC 6962 root of the first 1234 leaves
//   time 2024-03-05T01:02:03.004Z\n    extension line: when it was signed (UTC)
//   \n
//   — approvald/<unit> <base64(key id || Ed25519 signature)>\n
//
// The signature covers the four body lines exactly (each with its "\n"); the
// key id is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key),
// as in signed notes. The key name is the origin. The Store keeps only the
// Checkpoint struct (size, root, time, raw signature); the text is rebuilt
// from it and the origin whenever it is needed.
#ifndef APPROVALD_AUDIT_CHECKPOINT_H_
#define APPROVALD_AUDIT_CHECKPOINT_H_

#include <memory>
#include <string>
#include <string_view>

#include "approvald/status.h"
#include "approvald/store.h"

// OpenSSL's key type, kept out of this header's users.
typedef struct evp_pkey_st EVP_PKEY;

namespace approvald::audit {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// An Ed25519 public key. Immutable value; copies share the OpenSSL object.
// Thread-safe.
class PublicKey {
 public:
  // From the 32 raw key bytes / their base64 / a SubjectPublicKeyInfo PEM
  // ("-----BEGIN PUBLIC KEY-----"). kInvalidArgument ("bad_public_key") when
  // the input is not an Ed25519 public key.
  static Result<PublicKey> FromRaw(std::string_view raw);
  static Result<PublicKey> FromBase64(std::string_view b64);
  static Result<PublicKey> FromPem(std::string_view pem);
  // Reads a PEM file (kNotFound "key_file_missing" if absent).
  static Result<PublicKey> LoadPem(const std::string& path);

  const std::string& raw() const { return raw_; }  // 32 bytes
  std::string Base64() const;
  std::string Pem() const;

  // True iff `signature` (64 raw bytes) is a valid Ed25519 signature of
  // `message` under this key. Never throws, whatever the input.
  bool Verify(std::string_view message, std::string_view signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) {
    return a.raw_ == b.raw_;
  }

 private:
  std::shared_ptr<EVP_PKEY> pkey_;
  std::string raw_;
};

// An Ed25519 private key. Copies share the OpenSSL object. Thread-safe.
class SigningKey {
 public:
  // A fresh key from OpenSSL's CSPRNG.
  static Result<SigningKey> Generate();
  // From a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") holding an Ed25519 key.
  static Result<SigningKey> FromPem(std::string_view pem);
  // Reads the key file. Fails kNotFound ("key_file_missing") if it does not
  // exist, kPermissionDenied ("key_file_mode") if group or others may read
  // it (fix: chmod 600 FILE), kInvalidArgument ("bad_private_key") if it
  // holds no Ed25519 private key.
  static Result<SigningKey> LoadPem(const std::string& path);
  // Creates `path` with mode 0600 from the start (never chmod afterwards),
  // writes the PKCS#8 PEM and fsyncs it. Refuses to overwrite: kConflict
  // ("key_file_exists") if the file exists. kUnavailable on I/O errors.
  Status SavePem(const std::string& path) const;
  // First start: loads `path` if it exists, else generates a key and saves
  // it there. `*created` (optional) tells which happened.
  static Result<SigningKey> LoadOrCreate(const std::string& path,
                                         bool* created = nullptr);

  std::string Pem() const;
  const PublicKey& public_key() const { return public_; }
  // The 64-byte Ed25519 signature of `message`.
  Result<std::string> Sign(std::string_view message) const;

 private:
  std::shared_ptr<EVP_PKEY> pkey_;
  PublicKey public_;
};

// The log's identity as an auditor holds it: the origin line (also the key
// name) and the public key.
struct LogKey {
  std::string origin;  // e.g. "approvald/finance-office"
  PublicKey key;
};

// kInvalidArgument ("bad_origin") unless `origin` is a usable origin / key
// name: 1..256 bytes of printable ASCII without spaces or '+'.
Status ValidateOrigin(std::string_view origin);

// The signed-note key id: first 4 bytes of SHA-256(origin "\n" 0x01 key).
std::string KeyId(std::string_view origin, const PublicKey& key);
// The signed-note verifier key "<origin>+<8 hex key id>+<base64(0x01 key)>",
// one line an auditor can pin.
std::string VerifierKey(const LogKey& key);
// Parses a verifier key string (strict). kInvalidArgument ("bad_verifier_key").
Result<LogKey> ParseVerifierKey(std::string_view text);

// The signed body: origin, size, base64 root, "time <UTC ISO 8601>".
std::string CheckpointBody(std::string_view origin, const Checkpoint& cp);

// Signs a checkpoint of the tree of `size` leaves with root `root` at `at`.
Result<Checkpoint> SignCheckpoint(const SigningKey& key, std::string_view origin,
                                  int64_t size, const Hash& root, Timestamp at);

// True iff cp.signature is `key`'s signature over CheckpointBody(cp).
bool VerifyCheckpoint(const LogKey& key, const Checkpoint& cp);

// The whole signed note: body, blank line, signature line.
std::string FormatSignedCheckpoint(const LogKey& key, const Checkpoint& cp);

// Parses and verifies a signed checkpoint note. Strict: the body is exactly
// the four lines above (origin equal to key.origin, size in canonical
// decimal, a canonical base64 32-byte root, a canonical time line); then one
// blank line and one or more signature lines "— <name> <base64>", of which
// the one with key.origin's name and key id must verify (others, e.g.
// witness cosignatures, are ignored). Any other byte fails with
// kInvalidArgument ("bad_checkpoint") or kPermissionDenied
// ("checkpoint_signature") naming the problem.
Result<Checkpoint> ParseSignedCheckpoint(std::string_view text, const LogKey& key);

}  // namespace approvald::audit

#endif  // APPROVALD_AUDIT_CHECKPOINT_H_
