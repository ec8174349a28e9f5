// Reading hand-edited YAML with precise, friendly errors. Shared by the
// loaders in engine/core (workflow_loader, org_loader); internal to
// approval_core (it exposes yaml-cpp types, which nothing outside the core
// sees).
//
// A Reader owns the source text and the list of errors. Every read checks
// what it reads and reports problems at the exact position: unknown keys
// (with the closest known key), duplicate keys (yaml-cpp silently keeps the
// first), wrong types, missing required keys. Nothing throws.
#ifndef APPROVALD_CORE_YAML_SUPPORT_H_
#define APPROVALD_CORE_YAML_SUPPORT_H_

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/load_error.h"

namespace approvald::yaml_support {

// One key of a mapping: the key's node (for "missing"/"duplicate" positions)
// and the value's node.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// A mapping whose keys were checked. Lookups return null for absent keys;
// a key written with no value (`key:`) is present with a Null value.
class Map {
 public:
  Map() = default;
  bool ok() const { return ok_; }
  const YAML::Node& node() const { return node_; }
  const Entry* Find(std::string_view key) const;
  // Present with a non-null value.
  bool Has(std::string_view key) const;
  const std::vector<Entry>& entries() const { return entries_; }
  // Keys offered as "did you mean" for misspelt keys of this mapping.
  const std::vector<std::string>& suggested() const { return suggested_; }

 private:
  friend class Reader;
  bool ok_ = false;
  YAML::Node node_;
  std::vector<Entry> entries_;  // in file order, duplicates dropped
  // Allowed keys already suggested for a misspelt key ("did you mean"), so
  // that Missing() does not report the same mistake a second time.
  std::vector<std::string> suggested_;
};

// The scalar value of `key` in `map` without checking anything, or "" (to
// name a node in messages before it is read properly).
std::string PeekScalar(const YAML::Node& map, std::string_view key);

// Explains a key that is not allowed here. Returns the message to report, or
// "" to fall back to the default "unknown key ... did you mean ..." text.
using KeyAdvisor = std::function<std::string(const std::string& key)>;

class Reader {
 public:
  Reader(std::string_view text, std::string_view file);

  // Parses the whole text. On malformed YAML records one error at the
  // position yaml-cpp names and returns nullopt.
  std::optional<YAML::Node> Parse();

  // Where `node` starts. Undefined nodes map to line 1, column 1.
  SourceLoc Loc(const YAML::Node& node) const;
  // Where byte `offset` of the scalar's decoded value lies in the file,
  // accounting for quotes, escapes, '' in single quotes and block scalars.
  SourceLoc LocInScalar(const YAML::Node& scalar, size_t offset) const;
  // Where the value of `e` is, or its key when the value is empty.
  SourceLoc ValueLoc(const Entry& e) const;

  void Error(const SourceLoc& loc, std::string message);
  void Error(const YAML::Node& at, std::string message);
  size_t error_count() const { return errors_.size(); }
  // The errors so far, sorted by position.
  std::vector<LoadError> TakeErrors();
  const std::string& file() const { return source_.file(); }

  // Opens `node` as a mapping. Reports, naming it as `what` ("node
  // 'review'"), a node that is no mapping, duplicate keys, and keys not in
  // `allowed` (through `advisor` first, then with the closest allowed key).
  Map OpenMap(const YAML::Node& node, std::string_view what,
              const std::vector<std::string>& allowed,
              const KeyAdvisor& advisor = nullptr);

  // Reports "missing required key" at the mapping, with `example` (the text
  // of a valid line) as the fix.
  void Missing(const Map& m, std::string_view key, std::string_view what,
               std::string_view example);

  // Typed reads of m[key]. Absent (or empty, `key:`) optional keys give
  // nullopt silently; a required one is reported with Missing(). A value of
  // the wrong shape is reported at the value and gives nullopt.
  std::optional<std::string> String(const Map& m, std::string_view key,
                                    std::string_view what, bool required,
                                    std::string_view example = {});
  // Only the plain scalars true and false.
  std::optional<bool> Bool(const Map& m, std::string_view key, std::string_view what);
  // A decimal integer within [min, max].
  std::optional<int64_t> Int(const Map& m, std::string_view key, std::string_view what,
                             int64_t min, int64_t max);
  // A sequence of scalars ([a, b] or a block list). Each element's node is
  // returned too, for positions.
  std::optional<std::vector<std::pair<std::string, YAML::Node>>> StringList(
      const Map& m, std::string_view key, std::string_view what);
  // A sequence of anything (for lists of mappings).
  std::optional<YAML::Node> Sequence(const Map& m, std::string_view key,
                                     std::string_view what, bool required,
                                     std::string_view example = {});

  // The scalar text of `node`, or nullopt (reported as "`what` must be a
  // single value") when it is a list or mapping.
  std::optional<std::string> Scalar(const YAML::Node& node, std::string_view what);

 private:
  SourceText source_;
  std::vector<LoadError> errors_;
};

// True for a plain (unquoted) scalar, whose text YAML would also read as a
// number, a boolean or null.
bool IsPlain(const YAML::Node& scalar);

}  // namespace approvald::yaml_support

#endif  // APPROVALD_CORE_YAML_SUPPORT_H_
