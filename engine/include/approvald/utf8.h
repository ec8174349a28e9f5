// UTF-8 well-formedness, one definition for the whole daemon: the value
// codec, the canonical event encoding, the JSON log formatter and the error
// bodies all ask these functions, so they agree on what is well formed.
//
// Well formed means RFC 3629: no overlong forms, no surrogates (U+D800 to
// U+DFFF), nothing above U+10FFFF, no truncated sequence.
#ifndef APPROVALD_UTF8_H_
#define APPROVALD_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace approvald {

// Length in bytes (1 to 4) of the well-formed UTF-8 sequence that starts at
// s[i], or 0 if none starts there. Requires i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// `s` with every byte that does not start a well-formed sequence replaced by
// U+FFFD (one replacement per such byte); `s` itself when it is well formed.
std::string ToValidUtf8(std::string_view s);

}  // namespace approvald

#endif  // APPROVALD_UTF8_H_
