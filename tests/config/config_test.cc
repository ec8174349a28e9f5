#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace approvald {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, DefaultsWorkFromAFreshCheckout) {
  Config c = DefaultConfig();
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.workflows_dir, "workflows/");
  EXPECT_EQ(c.org_file, "config/org.yaml");
  EXPECT_EQ(c.max_body_bytes, 1048576);
  EXPECT_EQ(c.log_format, "text");
  EXPECT_FALSE(c.demo);
  EXPECT_GE(c.io_threads, 1);
  EXPECT_GE(c.worker_threads, 1);
}

TEST(ConfigTest, EveryKeyIsDeclaredOnceWithADocAndAValidDefault) {
  std::set<std::string> names;
  for (const auto& k : ConfigKeys()) {
    EXPECT_TRUE(names.insert(k.name).second) << k.name << " declared twice";
    EXPECT_GT(std::string(k.doc).size(), 20u) << k.name << " needs a doc line";
    Config c;
    EXPECT_TRUE(SetConfigValue(&c, k.name, k.default_text).has_value()) << k.name;
  }
}

TEST(ConfigTest, NestedKeysOverrideDefaults) {
  auto c = ParseConfig(
      "listen: 0.0.0.0:9000\n"
      "limits:\n"
      "  max_body_bytes: 2048\n"
      "  ws_send_queue: 8\n"
      "log:\n"
      "  format: json\n"
      "demo: true\n",
      "test.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->listen, "0.0.0.0:9000");
  EXPECT_EQ(c->max_body_bytes, 2048);
  EXPECT_EQ(c->ws_send_queue, 8);
  EXPECT_EQ(c->log_format, "json");
  EXPECT_TRUE(c->demo);
  EXPECT_EQ(c->max_header_bytes, DefaultConfig().max_header_bytes);
}

TEST(ConfigTest, EmptyFileMeansDefaults) {
  auto c = ParseConfig("", "empty.yaml");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->listen, DefaultConfig().listen);
}

TEST(ConfigTest, UnknownKeyIsNamedWithLineAndSuggestion) {
  auto c = ParseConfig("limits:\n  max_body_byte: 10\n", "d.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(c.error().message, HasSubstr("d.yaml:2:3"));
  EXPECT_THAT(c.error().message, HasSubstr("unknown key 'limits.max_body_byte'"));
  EXPECT_THAT(c.error().message, HasSubstr("did you mean 'limits.max_body_bytes'"));
}

TEST(ConfigTest, UnknownTopLevelKeyFails) {
  auto c = ParseConfig("colour: blue\n", "d.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("unknown key 'colour'"));
}

TEST(ConfigTest, OutOfRangeValueNamesKeyAndBounds) {
  auto c = ParseConfig("limits:\n  max_body_bytes: 10\n", "d.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("'limits.max_body_bytes' is 10, out of range"));
  EXPECT_THAT(c.error().message, HasSubstr("1024..67108864"));
  EXPECT_THAT(c.error().message, HasSubstr("d.yaml:2:19"));
}

TEST(ConfigTest, WrongTypesAreRefused) {
  EXPECT_THAT(ParseConfig("io_threads: many\n", "f").error().message,
              HasSubstr("'io_threads' must be an integer"));
  EXPECT_THAT(ParseConfig("demo: maybe\n", "f").error().message,
              HasSubstr("'demo' must be true or false"));
  EXPECT_THAT(ParseConfig("log:\n  level: loud\n", "f").error().message,
              HasSubstr("'log.level' must be one of {trace,debug,info,warn,error}"));
  EXPECT_THAT(ParseConfig("listen: 8080\n", "f").error().message,
              HasSubstr("'listen' must be HOST:PORT"));
  EXPECT_THAT(ParseConfig("limits: 5\n", "f").error().message,
              HasSubstr("'limits' is a section"));
  EXPECT_THAT(ParseConfig("io_threads: [1, 2]\n", "f").error().message,
              HasSubstr("'io_threads' must be a single value"));
  EXPECT_THAT(ParseConfig("io_threads: 99999999999999999999\n", "f").error().message,
              HasSubstr("must be an integer"));
}

TEST(ConfigTest, DuplicateKeyFails) {
  auto c = ParseConfig("io_threads: 1\nio_threads: 2\n", "f");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("'io_threads' is given twice"));
}

TEST(ConfigTest, MalformedYamlNamesPosition) {
  auto c = ParseConfig("listen: [\n", "bad.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("bad.yaml:"));
  EXPECT_THAT(c.error().message, HasSubstr("not valid YAML"));
}

TEST(ConfigTest, TlsNeedsBothFiles) {
  auto c = ParseConfig("tls:\n  cert_file: a.pem\n", "f");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("tls.cert_file and tls.key_file"));
}

TEST(ConfigTest, CommandLineOverrideIsValidatedLikeTheFile) {
  Config c = DefaultConfig();
  ASSERT_TRUE(SetConfigValue(&c, "listen", "127.0.0.1:0").has_value());
  EXPECT_EQ(c.listen, "127.0.0.1:0");
  auto bad = SetConfigValue(&c, "listen", "nope");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(c.listen, "127.0.0.1:0");  // unchanged on failure
  EXPECT_FALSE(SetConfigValue(&c, "no_such_key", "1").has_value());
}

TEST(ConfigTest, MissingFileIsNotFound) {
  auto c = LoadConfigFile("/nonexistent/approvald.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(c.error().message, HasSubstr("/nonexistent/approvald.yaml"));
}

TEST(ConfigTest, ExampleFileIsGeneratedFromTheTable) {
  std::ifstream in(APPROVAL_SOURCE_DIR "/config/approvald.example.yaml");
  ASSERT_TRUE(in) << "config/approvald.example.yaml is missing";
  std::ostringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), RenderExampleConfig())
      << "regenerate it: approvald config example > config/approvald.example.yaml";
}

TEST(ConfigTest, ExampleFileLoadsToTheDefaults) {
  auto c = LoadConfigFile(APPROVAL_SOURCE_DIR "/config/approvald.example.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  Config d = DefaultConfig();
  EXPECT_EQ(c->listen, d.listen);
  EXPECT_EQ(c->ws_max_message_bytes, d.ws_max_message_bytes);
  EXPECT_EQ(c->log_level, d.log_level);
  EXPECT_EQ(c->holidays_file, d.holidays_file);
}

TEST(ConfigTest, UnitFilesDefaultToTheShippedOnes) {
  Config d = DefaultConfig();
  EXPECT_EQ(d.unit_file, "config/unit.yaml");
  EXPECT_EQ(d.procurement_catalogue_file, "config/procurement-catalogue.yaml");
  EXPECT_EQ(d.holidays_file, "config/holidays.yaml");
  for (const std::string& f : {d.unit_file, d.procurement_catalogue_file, d.holidays_file})
    EXPECT_TRUE(std::ifstream(std::string(APPROVAL_SOURCE_DIR "/") + f).good()) << f;
  // The retired key is refused with its position.
  auto c = ParseConfig("unit_config_file: \"x.yaml\"\n", "t.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("t.yaml:1:1"));
  auto u = ParseConfig("unit_file: \"\"\nprocurement_catalogue_file: cat.yaml\n", "t.yaml");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->unit_file, "");
  EXPECT_EQ(u->procurement_catalogue_file, "cat.yaml");
}

TEST(ConfigTest, ExampleDocumentsEveryKey) {
  std::string text = RenderExampleConfig();
  for (const auto& k : ConfigKeys()) {
    std::string name = k.name;
    std::string leaf = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
    EXPECT_THAT(text, HasSubstr(leaf + ": ")) << name;
  }
}

TEST(ListenTest, SplitsHostAndPort) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitListen("127.0.0.1:8080", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(SplitListen("[::1]:0", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(SplitListen("::1:80", &host, &port));
  EXPECT_FALSE(SplitListen("host:", &host, &port));
  EXPECT_FALSE(SplitListen("host:70000", &host, &port));
  EXPECT_FALSE(SplitListen("host:8a", &host, &port));
}

TEST(ListenTest, RecognisesLoopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.evil.com"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.256"));
}

}  // namespace
}  // namespace approvald
