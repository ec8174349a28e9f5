// Ed25519 keys, key files and signed checkpoints.
#include "audit/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "audit/encoding.h"
#include "audit/merkle.h"

namespace approvald::audit {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "audit_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const {
    return (fs::path(path_) / name).string();
  }

 private:
  std::string path_;
};

constexpr char kOrigin[] = "approvald/finance-office";

Checkpoint Signed(const SigningKey& key, int64_t size) {
  Hash root = LeafHash("root of " + std::to_string(size));
  auto cp = SignCheckpoint(key, kOrigin, size, root, Timestamp{1709600523004});
  EXPECT_TRUE(cp.has_value());
  return *cp;
}

TEST(SigningKeyTest, SignsAndVerifies) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key.has_value());
  auto sig = key->Sign("hello");
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(key->public_key().Verify("hello", *sig));
  EXPECT_FALSE(key->public_key().Verify("hellO", *sig));
  std::string bad = *sig;
  bad[10] ^= 1;
  EXPECT_FALSE(key->public_key().Verify("hello", bad));
  EXPECT_FALSE(key->public_key().Verify("hello", sig->substr(0, 63)));
  EXPECT_FALSE(key->public_key().Verify("hello", ""));
  auto other = SigningKey::Generate();
  EXPECT_FALSE(other->public_key().Verify("hello", *sig));
  EXPECT_NE(key->public_key().raw(), other->public_key().raw());
}

TEST(SigningKeyTest, PublicKeyExportsRoundTrip) {
  auto key = SigningKey::Generate();
  const PublicKey& pub = key->public_key();
  EXPECT_EQ(pub.raw().size(), 32u);
  std::string pem = pub.Pem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PUBLIC KEY-----\n")) << pem;
  auto from_pem = PublicKey::FromPem(pem);
  ASSERT_TRUE(from_pem.has_value());
  EXPECT_EQ(*from_pem, pub);
  auto from_b64 = PublicKey::FromBase64(pub.Base64());
  ASSERT_TRUE(from_b64.has_value());
  EXPECT_EQ(*from_b64, pub);
  EXPECT_EQ(PublicKey::FromBase64("AAAA").error().reason, "bad_public_key");
  EXPECT_EQ(PublicKey::FromPem("nonsense").error().reason, "bad_public_key");
  // A private key's PEM is not a public key.
  EXPECT_FALSE(PublicKey::FromPem(key->Pem()).has_value());
}

TEST(SigningKeyTest, PrivateKeyPemRoundTrip) {
  auto key = SigningKey::Generate();
  std::string pem = key->Pem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  auto back = SigningKey::FromPem(pem);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->public_key(), key->public_key());
  EXPECT_EQ(SigningKey::FromPem(key->public_key().Pem()).error().reason,
            "bad_private_key");
}

TEST(KeyFileTest, SavedWithMode0600AndLoadsBack) {
  TempDir dir;
  std::string path = dir.File("checkpoint.key");
  ::umask(0);  // the mode must come from open(), not from a friendly umask
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key->SavePem(path).has_value());
  ::umask(022);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto loaded = SigningKey::LoadPem(path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->public_key(), key->public_key());
}

TEST(KeyFileTest, NeverOverwritesAnExistingKey) {
  TempDir dir;
  std::string path = dir.File("checkpoint.key");
  auto first = SigningKey::Generate();
  ASSERT_TRUE(first->SavePem(path).has_value());
  auto second = SigningKey::Generate();
  auto s = second->SavePem(path);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().reason, "key_file_exists");
  EXPECT_EQ(SigningKey::LoadPem(path)->public_key(), first->public_key());
}

TEST(KeyFileTest, LoadOrCreateMakesTheKeyOnFirstStartOnly) {
  TempDir dir;
  std::string path = dir.File("checkpoint.key");
  bool created = false;
  auto a = SigningKey::LoadOrCreate(path, &created);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(created);
  auto b = SigningKey::LoadOrCreate(path, &created);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(created);
  EXPECT_EQ(a->public_key(), b->public_key());
}

TEST(KeyFileTest, RefusesAKeyOthersCanRead) {
  TempDir dir;
  std::string path = dir.File("checkpoint.key");
  ASSERT_TRUE(SigningKey::Generate()->SavePem(path).has_value());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto r = SigningKey::LoadPem(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "key_file_mode");
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
}

TEST(KeyFileTest, MissingAndGarbageFilesAreClearErrors) {
  TempDir dir;
  EXPECT_EQ(SigningKey::LoadPem(dir.File("nope")).error().reason, "key_file_missing");
  EXPECT_EQ(PublicKey::LoadPem(dir.File("nope")).error().reason, "key_file_missing");
  std::string path = dir.File("garbage.key");
  { std::ofstream(path) << "not a key\n"; }
  ::chmod(path.c_str(), 0600);
  auto r = SigningKey::LoadPem(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "bad_private_key");
  EXPECT_NE(r.error().message.find(path), std::string::npos);
}

TEST(CheckpointTest, BodyHasTheDocumentedForm) {
  Checkpoint cp;
  cp.size = 1234;
  cp.root =
      *HashFromHex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  cp.at = Timestamp{1709600523004};
  EXPECT_EQ(CheckpointBody(kOrigin, cp),
            "approvald/finance-office\n"
            "1234\n"
            "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
            "time 2024-03-05T01:02:03.004Z\n");
}

TEST(CheckpointTest, SignVerifyAndEveryFieldIsCovered) {
  auto key = SigningKey::Generate();
  LogKey log{kOrigin, key->public_key()};
  Checkpoint cp = Signed(*key, 77);
  EXPECT_TRUE(VerifyCheckpoint(log, cp));
  Checkpoint t = cp;
  t.size = 78;
  EXPECT_FALSE(VerifyCheckpoint(log, t));
  t = cp;
  t.root[31] ^= 1;
  EXPECT_FALSE(VerifyCheckpoint(log, t));
  t = cp;
  t.at.ms += 1;
  EXPECT_FALSE(VerifyCheckpoint(log, t));
  t = cp;
  t.signature[0] ^= 0x40;
  EXPECT_FALSE(VerifyCheckpoint(log, t));
  EXPECT_FALSE(VerifyCheckpoint(LogKey{"approvald/other", key->public_key()}, cp));
  EXPECT_FALSE(
      VerifyCheckpoint(LogKey{kOrigin, SigningKey::Generate()->public_key()}, cp));
}

TEST(CheckpointTest, SignedNoteRoundTripsAndIsStrict) {
  auto key = SigningKey::Generate();
  LogKey log{kOrigin, key->public_key()};
  Checkpoint cp = Signed(*key, 5);
  std::string note = FormatSignedCheckpoint(log, cp);
  auto parsed = ParseSignedCheckpoint(note, log);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString() << "\n" << note;
  EXPECT_EQ(parsed->size, cp.size);
  EXPECT_EQ(parsed->root, cp.root);
  EXPECT_EQ(parsed->at, cp.at);
  EXPECT_EQ(parsed->signature, cp.signature);

  // A witness cosignature after ours is ignored, not an error.
  std::string witnessed =
      note + "\xE2\x80\x94 witness.example " + Base64Encode(std::string(68, 'w')) + "\n";
  EXPECT_TRUE(ParseSignedCheckpoint(witnessed, log).has_value());

  auto fails = [&](const std::string& text, const std::string& reason) {
    auto r = ParseSignedCheckpoint(text, log);
    if (r.has_value()) return ::testing::AssertionFailure() << "accepted:\n" << text;
    if (r.error().reason != reason) {
      return ::testing::AssertionFailure() << r.error().ToString();
    }
    return ::testing::AssertionSuccess();
  };
  auto replace = [&](std::string from, std::string to) {
    std::string t = note;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  EXPECT_TRUE(fails(replace("\n5\n", "\n6\n"), "checkpoint_signature"));
  EXPECT_TRUE(fails(replace("\n5\n", "\n05\n"), "bad_checkpoint"));
  EXPECT_TRUE(fails(replace("\n5\n", "\n-5\n"), "bad_checkpoint"));
  EXPECT_TRUE(fails(replace("\n5\n", "\n5 \n"), "bad_checkpoint"));
  EXPECT_TRUE(fails(replace(kOrigin, "approvald/other"), "bad_checkpoint"));
  EXPECT_TRUE(fails(replace(".004Z", ".004+08:00"), "bad_checkpoint"));
  EXPECT_TRUE(fails(replace("time ", "Time "), "bad_checkpoint"));
  EXPECT_TRUE(fails(replace("Z\n\n", "Z\nextra\n\n"), "bad_checkpoint"));
  EXPECT_TRUE(fails(note.substr(0, note.size() - 1), "bad_checkpoint"));
  EXPECT_TRUE(fails(note.substr(0, note.find("\n\n") + 2), "bad_checkpoint"));
  EXPECT_TRUE(fails(note + "trailing\n", "bad_checkpoint"));
  EXPECT_TRUE(fails(note + note.substr(note.find("\xE2\x80\x94")),
                    "bad_checkpoint"));  // our signature twice
  EXPECT_TRUE(fails("", "bad_checkpoint"));
  // Only a signature by some other key: no signature of ours.
  std::string other_only = note.substr(0, note.find("\n\n") + 2) +
                           "\xE2\x80\x94 witness.example " +
                           Base64Encode(std::string(68, 'w')) + "\n";
  EXPECT_TRUE(fails(other_only, "checkpoint_signature"));
  // The root line altered by one base64 character.
  std::string root_b64 = Base64Encode(HashBytes(cp.root));
  std::string flipped = root_b64;
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(fails(replace(root_b64, flipped), "checkpoint_signature"));
}

TEST(VerifierKeyTest, RoundTripsAndRejectsMismatches) {
  auto key = SigningKey::Generate();
  LogKey log{kOrigin, key->public_key()};
  std::string vkey = VerifierKey(log);
  EXPECT_TRUE(vkey.starts_with(std::string(kOrigin) + "+"));
  auto parsed = ParseVerifierKey(vkey);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->origin, kOrigin);
  EXPECT_EQ(parsed->key, log.key);
  std::string wrong_id = vkey;
  wrong_id[std::string(kOrigin).size() + 1] ^= 1;
  EXPECT_EQ(ParseVerifierKey(wrong_id).error().reason, "bad_verifier_key");
  std::string renamed = "approvald/other" + vkey.substr(std::string(kOrigin).size());
  EXPECT_FALSE(ParseVerifierKey(renamed).has_value());
  EXPECT_FALSE(ParseVerifierKey("").has_value());
  EXPECT_FALSE(ParseVerifierKey("a+b+c").has_value());
}

TEST(OriginTest, Validation) {
  EXPECT_TRUE(ValidateOrigin("approvald/finance-office").has_value());
  EXPECT_FALSE(ValidateOrigin("").has_value());
  EXPECT_FALSE(ValidateOrigin("has space").has_value());
  EXPECT_FALSE(ValidateOrigin("a+b").has_value());
  EXPECT_FALSE(ValidateOrigin("line\nbreak").has_value());
  EXPECT_FALSE(ValidateOrigin("财务").has_value());
  auto key = SigningKey::Generate();
  EXPECT_FALSE(SignCheckpoint(*key, "bad origin", 1, Hash{}, Timestamp{}).has_value());
}

}  // namespace
}  // namespace approvald::audit
