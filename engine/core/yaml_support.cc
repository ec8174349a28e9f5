#include "core/yaml_support.h"

#include <charconv>
#include <exception>

namespace approvald::yaml_support {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string_view StripBom(std::string_view text) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int HexDigits(char c) {
  switch (c) {
    case 'x':
      return 2;
    case 'u':
      return 4;
    case 'U':
      return 8;
    default:
      return 0;
  }
}

// Bytes of the UTF-8 encoding of code point `cp`.
size_t Utf8Length(unsigned long cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

}  // namespace

const Entry* Map::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

bool Map::Has(std::string_view key) const {
  const Entry* e = Find(key);
  return e != nullptr && !e->value.IsNull();
}

std::string PeekScalar(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return "";
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key && kv.second.IsScalar()) {
      return kv.second.Scalar();
    }
  }
  return "";
}

bool IsPlain(const YAML::Node& scalar) {
  // yaml-cpp tags plain scalars "?" and quoted or block scalars "!".
  return scalar.IsScalar() && scalar.Tag() == "?";
}

Reader::Reader(std::string_view text, std::string_view file)
    : source_(StripBom(text), file) {}

std::optional<YAML::Node> Reader::Parse() {
  try {
    return YAML::Load(source_.text());
  } catch (const YAML::Exception& e) {
    SourceLoc loc;
    if (e.mark.pos >= 0 && static_cast<size_t>(e.mark.pos) <= source_.text().size()) {
      loc = source_.LocAt(static_cast<size_t>(e.mark.pos));
    } else {
      loc = SourceLoc{file(), e.mark.line + 1, e.mark.column + 1};
    }
    Error(loc, "malformed YAML: " + e.msg +
                   " — fix the syntax here (indentation, quotes, brackets, "
                   "a missing ':' after a key)");
  } catch (const std::exception& e) {
    Error(SourceLoc{file(), 1, 1},
          std::string("malformed YAML: ") + e.what() + " — fix the syntax of the file");
  }
  return std::nullopt;
}

SourceLoc Reader::Loc(const YAML::Node& node) const {
  if (!node.IsDefined()) return SourceLoc{file(), 1, 1};
  YAML::Mark m = node.Mark();
  if (m.pos < 0) return SourceLoc{file(), 1, 1};
  return source_.LocAt(static_cast<size_t>(m.pos));
}

SourceLoc Reader::ValueLoc(const Entry& e) const {
  return e.value.IsNull() ? Loc(e.key_node) : Loc(e.value);
}

SourceLoc Reader::LocInScalar(const YAML::Node& scalar, size_t offset) const {
  const std::string& text = source_.text();
  YAML::Mark m = scalar.Mark();
  if (m.pos < 0 || static_cast<size_t>(m.pos) >= text.size()) {
    return Loc(scalar);
  }
  const std::string& decoded = scalar.Scalar();
  size_t i = static_cast<size_t>(m.pos);
  const char first = text[i];
  const bool double_quoted = first == '"';
  const bool single_quoted = first == '\'';
  if (double_quoted || single_quoted) {
    ++i;
  } else if (first == '|' || first == '>') {
    // Block scalar: the content starts on the line after the indicator.
    size_t nl = text.find('\n', i);
    i = nl == std::string::npos ? text.size() : nl + 1;
  }
  // Walk the source and the decoded value side by side. Characters that
  // match advance both; escapes advance the source by their length and the
  // value by what they decode to; whitespace the YAML folding removed or
  // added advances one side only.
  size_t j = 0;
  offset = std::min(offset, decoded.size());
  while (j < offset && i < text.size()) {
    const char c = text[i];
    if (double_quoted && c == '\\' && i + 1 < text.size()) {
      const char esc = text[i + 1];
      if (esc == '\n' || esc == '\r') {  // line continuation: decodes to nothing
        i += 2;
        while (i < text.size() && IsBlank(text[i])) ++i;
        continue;
      }
      int digits = HexDigits(esc);
      if (digits > 0) {
        unsigned long cp = 0;
        std::from_chars(text.data() + i + 2,
                        text.data() + std::min(text.size(), i + 2 + digits), cp, 16);
        i += 2 + static_cast<size_t>(digits);
        j += Utf8Length(cp);
      } else {
        i += 2;
        j += 1;
      }
      continue;
    }
    if (single_quoted && c == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
      i += 2;
      j += 1;
      continue;
    }
    if (c == decoded[j]) {
      ++i;
      ++j;
      continue;
    }
    if (IsBlank(c)) {
      ++i;
      continue;
    }
    if (IsBlank(decoded[j])) {
      ++j;
      continue;
    }
    break;  // cannot align any further; report where we are
  }
  // Skip indentation so that an offset at the start of a folded line points
  // at its first character.
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t') && j < decoded.size() &&
         !IsBlank(decoded[j])) {
    ++i;
  }
  return source_.LocAt(i);
}

void Reader::Error(const SourceLoc& loc, std::string message) {
  errors_.push_back(LoadError{loc, std::move(message)});
}

void Reader::Error(const YAML::Node& at, std::string message) {
  Error(Loc(at), std::move(message));
}

std::vector<LoadError> Reader::TakeErrors() {
  std::vector<LoadError> out = std::move(errors_);
  errors_.clear();
  SortLoadErrors(&out);
  return out;
}

Map Reader::OpenMap(const YAML::Node& node, std::string_view what,
                    const std::vector<std::string>& allowed, const KeyAdvisor& advisor) {
  Map m;
  m.node_ = node;
  if (!node.IsMap()) {
    std::string got = node.IsSequence() ? "a list"
                      : node.IsNull()   ? "nothing"
                                        : "'" + node.Scalar() + "'";
    Error(node, std::string(what) +
                    " must be a mapping of keys (key: value), "
                    "got " +
                    got + " — write it as key: value lines or { key: value, ... }");
    return m;
  }
  m.ok_ = true;
  for (const auto& kv : node) {
    // By value: yaml-cpp's iterator hands out proxies, so references into
    // `it->first` would dangle.
    const YAML::Node k = kv.first;
    if (!k.IsScalar()) {
      Error(k, "a key in " + std::string(what) +
                   " is not a plain name — write keys as simple words");
      continue;
    }
    std::string key = k.Scalar();
    if (m.Find(key) != nullptr) {
      SourceLoc first = Loc(m.Find(key)->key_node);
      Error(k, "duplicate key '" + key + "' in " + std::string(what) +
                   " (first at line " + std::to_string(first.line) +
                   ") — each key may appear once; remove one");
      continue;
    }
    bool known = false;
    for (const std::string& a : allowed) {
      if (a == key) {
        known = true;
        break;
      }
    }
    if (!known) {
      std::string message = advisor ? advisor(key) : std::string();
      if (message.empty()) {
        std::string suggestion = ClosestMatch(key, allowed);
        message = "unknown key '" + key + "' in " + std::string(what);
        if (!suggestion.empty()) {
          message += " — did you mean '" + suggestion + "'?";
          m.suggested_.push_back(suggestion);
        } else {
          message += " — allowed keys: " + JoinNames(allowed);
        }
      }
      Error(k, std::move(message));
      continue;
    }
    m.entries_.push_back(Entry{key, k, kv.second});
  }
  return m;
}

void Reader::Missing(const Map& m, std::string_view key, std::string_view what,
                     std::string_view example) {
  for (const std::string& s : m.suggested_) {
    if (s == key) return;  // "unknown key 'asignees' — did you mean ..." said it
  }
  std::string message =
      "missing required key '" + std::string(key) + "' in " + std::string(what);
  if (!example.empty()) {
    message += " — add it, e.g. " + std::string(example);
  } else {
    message += " — add it (see workflows/README.md)";
  }
  const Entry* e = m.Find(key);
  if (e != nullptr) {  // present but empty
    Error(e->key_node, "'" + std::string(key) + "' in " + std::string(what) +
                           " has no value — write one, e.g. " +
                           std::string(example.empty() ? key : example));
    return;
  }
  Error(m.node(), std::move(message));
}

std::optional<std::string> Reader::Scalar(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) return node.Scalar();
  Error(node, std::string(what) + " must be a single value, not " +
                  (node.IsSequence() ? "a list" : "a mapping") +
                  " — write it as one string");
  return std::nullopt;
}

std::optional<std::string> Reader::String(const Map& m, std::string_view key,
                                          std::string_view what, bool required,
                                          std::string_view example) {
  const Entry* e = m.Find(key);
  if (e == nullptr || e->value.IsNull()) {
    if (required) Missing(m, key, what, example);
    return std::nullopt;
  }
  return Scalar(e->value, "'" + std::string(key) + "' in " + std::string(what));
}

std::optional<bool> Reader::Bool(const Map& m, std::string_view key,
                                 std::string_view what) {
  const Entry* e = m.Find(key);
  if (e == nullptr || e->value.IsNull()) return std::nullopt;
  if (e->value.IsScalar() && IsPlain(e->value)) {
    if (e->value.Scalar() == "true") return true;
    if (e->value.Scalar() == "false") return false;
  }
  std::string got = e->value.IsScalar() ? "'" + e->value.Scalar() + "'"
                                        : std::string("a list or mapping");
  Error(e->value, "'" + std::string(key) + "' in " + std::string(what) +
                      " must be true or false, got " + got +
                      " — write true or false without quotes");
  return std::nullopt;
}

std::optional<int64_t> Reader::Int(const Map& m, std::string_view key,
                                   std::string_view what, int64_t min, int64_t max) {
  const Entry* e = m.Find(key);
  if (e == nullptr || e->value.IsNull()) return std::nullopt;
  if (e->value.IsScalar()) {
    const std::string& s = e->value.Scalar();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
      if (v >= min && v <= max) return v;
      Error(e->value, "'" + std::string(key) + "' in " + std::string(what) + " is " + s +
                          ", out of range — use a whole number from " +
                          std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
  }
  std::string got = e->value.IsScalar() ? "'" + e->value.Scalar() + "'"
                                        : std::string("a list or mapping");
  Error(e->value, "'" + std::string(key) + "' in " + std::string(what) +
                      " must be a whole number, got " + got +
                      " — write digits only, e.g. " + std::to_string(min));
  return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, YAML::Node>>> Reader::StringList(
    const Map& m, std::string_view key, std::string_view what) {
  const Entry* e = m.Find(key);
  if (e == nullptr || e->value.IsNull()) return std::nullopt;
  if (!e->value.IsSequence()) {
    Error(e->value, "'" + std::string(key) + "' in " + std::string(what) +
                        " must be a list — write it as [a, b] (a single item "
                        "as [a])");
    return std::nullopt;
  }
  std::vector<std::pair<std::string, YAML::Node>> out;
  bool ok = true;
  for (const YAML::Node& item : e->value) {
    if (!item.IsScalar()) {
      Error(item, "each item of '" + std::string(key) + "' in " + std::string(what) +
                      " must be a single name — remove "
                      "the nested list or mapping");
      ok = false;
      continue;
    }
    out.emplace_back(item.Scalar(), item);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<YAML::Node> Reader::Sequence(const Map& m, std::string_view key,
                                           std::string_view what, bool required,
                                           std::string_view example) {
  const Entry* e = m.Find(key);
  if (e == nullptr || e->value.IsNull()) {
    if (required) Missing(m, key, what, example);
    return std::nullopt;
  }
  if (!e->value.IsSequence()) {
    Error(e->value, "'" + std::string(key) + "' in " + std::string(what) +
                        " must be a list (lines starting with '- ') — " +
                        "see workflows/README.md for its items");
    return std::nullopt;
  }
  return e->value;
}

}  // namespace approvald::yaml_support
