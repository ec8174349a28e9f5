#include "core/load_error.h"

#include <algorithm>

namespace approvald {

std::string LoadError::ToString() const {
  std::string s = loc.file;
  if (loc.line > 0) {
    s += ":" + std::to_string(loc.line);
    if (loc.column > 0) s += ":" + std::to_string(loc.column);
  }
  s += ": ";
  s += message;
  return s;
}

void SortLoadErrors(std::vector<LoadError>* errors) {
  std::stable_sort(errors->begin(), errors->end(),
                   [](const LoadError& a, const LoadError& b) {
                     if (a.loc.file != b.loc.file) return a.loc.file < b.loc.file;
                     if (a.loc.line != b.loc.line) return a.loc.line < b.loc.line;
                     return a.loc.column < b.loc.column;
                   });
}

SourceText::SourceText(std::string_view text, std::string_view file)
    : text_(text), file_(file) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

SourceLoc SourceText::LocAt(size_t offset) const {
  offset = std::min(offset, text_.size());
  // The last line start that is <= offset.
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
  size_t start = line_starts_[line - 1];
  int column = 1;
  for (size_t i = start; i < offset; ++i) {
    // Count code points: every byte that is not a UTF-8 continuation byte.
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return SourceLoc{file_, static_cast<int>(line), column};
}

namespace {

// Optimal string alignment distance: Levenshtein plus transpositions of
// neighbouring characters, so "asignees"/"assignees" and "nxet"/"next" are 1.
size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

std::string ClosestMatch(std::string_view word,
                         const std::vector<std::string>& candidates) {
  const size_t limit = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    if (c == word) continue;
    size_t dist = EditDistance(word, c);
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  if (!best.empty() || word.size() < 4) return best;
  // A word that is the start of a longer name ("voucher" for "voucher_no").
  for (const std::string& c : candidates) {
    if (c.size() > word.size() && c.compare(0, word.size(), word) == 0 &&
        (best.empty() || c.size() < best.size())) {
      best = c;
    }
  }
  return best;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace approvald
