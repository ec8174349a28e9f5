// Runs every broken workflow in tests/workflows/invalid/ through LoadWorkflow
// and compares the errors with the sibling <name>.expected file, line by line
// and exactly. File names in the errors are relative to the source root
// ("tests/workflows/invalid/<name>.yaml"), as `approvald check` prints them
// when run from there.
//
// To add a case: write <name>.yaml with a comment saying what is broken, run
// `approvald check tests/workflows/invalid` from the source root, check the
// lines for <name>.yaml by hand, and save them as <name>.expected.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "../engine/core/loader_test_util.h"

namespace approvald {
namespace {

namespace fs = std::filesystem;
using testing::ErrorLines;
using testing::ReadTextFile;
using testing::SourceDir;

const char* const kInvalidDir = "tests/workflows/invalid";

std::vector<std::string> InvalidFiles() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(SourceDir() / kInvalidDir)) {
    if (entry.path().extension() == ".yaml") {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

class InvalidWorkflowTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidWorkflowTest, GivesExactlyTheExpectedErrors) {
  const std::string name = GetParam();
  const std::string rel = std::string(kInvalidDir) + "/" + name + ".yaml";
  const fs::path expected_path = SourceDir() / kInvalidDir / (name + ".expected");
  ASSERT_TRUE(fs::exists(expected_path))
      << "missing " << expected_path << " beside " << rel;

  WorkflowLoad load = LoadWorkflow(ReadTextFile(SourceDir() / rel), rel,
                                   testing::SeedOrg(), testing::TestChecks());
  EXPECT_FALSE(load.def.has_value()) << rel << " loaded although it is broken";
  EXPECT_EQ(ErrorLines(load.errors), SplitLines(ReadTextFile(expected_path)));
}

INSTANTIATE_TEST_SUITE_P(Files, InvalidWorkflowTest, ::testing::ValuesIn(InvalidFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(InvalidWorkflowFilesTest, AtLeastFifteenFilesEachWithExpectations) {
  std::vector<std::string> files = InvalidFiles();
  EXPECT_GE(files.size(), 15u);
  for (const auto& entry : fs::directory_iterator(SourceDir() / kInvalidDir)) {
    if (entry.path().extension() != ".expected") continue;
    EXPECT_TRUE(fs::exists(fs::path(entry.path()).replace_extension(".yaml")))
        << entry.path() << " has no .yaml beside it";
  }
}

}  // namespace
}  // namespace approvald
