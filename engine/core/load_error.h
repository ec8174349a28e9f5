// Errors found while loading a hand-edited file (a workflow, the
// organisation), with the position they refer to, plus the two text helpers
// every loader needs: byte offset -> line:column, and "did you mean".
//
// Pure: the loaders get the text from the caller and never touch a file.
#ifndef APPROVALD_CORE_LOAD_ERROR_H_
#define APPROVALD_CORE_LOAD_ERROR_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "approvald/workflow.h"

namespace approvald {

// One problem in a loaded file. `message` says what is wrong and how to fix
// it, in the form "what is wrong — how to fix".
struct LoadError {
  SourceLoc loc;
  std::string message;

  // "file:line:column: message" (line and column are 1-based; a column of 0
  // is left out, a line of 0 as well).
  std::string ToString() const;

  bool operator==(const LoadError&) const = default;
};

// Sorts errors by line, then column, keeping the order of errors found at
// the same position. Loaders report in this order.
void SortLoadErrors(std::vector<LoadError>* errors);

// Maps byte offsets of a text to 1-based line and column numbers. Columns
// count Unicode code points (UTF-8), so a column points at the same character
// an editor shows, also after Chinese text. Keeps a copy of the text.
class SourceText {
 public:
  SourceText(std::string_view text, std::string_view file);

  const std::string& text() const { return text_; }
  const std::string& file() const { return file_; }

  // The location of byte `offset` (clamped to the end of the text).
  SourceLoc LocAt(size_t offset) const;

 private:
  std::string text_;
  std::string file_;
  std::vector<size_t> line_starts_;  // byte offset of each line's first byte
};

// The candidate closest to `word` by edit distance (Levenshtein; a swap of two
// neighbouring letters counts as one edit), or "" when none is close enough to
// be a plausible typo: at most 1 edit for words up to 4 letters, at most 2 up
// to 8 letters, at most 3 beyond. Ties go to the earlier candidate. Failing
// that, a word of 4 or more letters that begins a candidate suggests the
// shortest such candidate ("voucher" -> "voucher_no").
std::string ClosestMatch(std::string_view word,
                         const std::vector<std::string>& candidates);

// "a, b, c": for "use one of: ..." hints.
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace approvald

#endif  // APPROVALD_CORE_LOAD_ERROR_H_
