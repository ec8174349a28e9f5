#include "api/attachment_names.h"

#include <algorithm>
#include <set>

#include "api/json_codec.h"

namespace approvald::api {
namespace {

bool IsAddress(const std::string& s) {
  if (s.size() != 7 + 64 || !s.starts_with("sha256:")) return false;
  return std::all_of(s.begin() + 7, s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void Collect(const Value& v, std::set<std::string>* seen, std::vector<std::string>* out) {
  if (v.is_string()) {
    const std::string& s = v.as_string();
    if (IsAddress(s) && seen->insert(s).second) out->push_back(s);
  } else if (v.is_list()) {
    for (const Value& x : v.as_list()) Collect(x, seen, out);
  } else if (v.is_record()) {
    for (const auto& [k, x] : v.as_record()) Collect(x, seen, out);
  }
}

std::unexpected<Error> BadName(const std::string& what) {
  return InvalidArgument("invalid_field", "query parameter 'name': " + what);
}

}  // namespace

Result<std::string> CleanAttachmentName(std::string_view raw) {
  std::string_view s = raw;
  if (auto slash = s.find_last_of("/\\"); slash != std::string_view::npos) {
    s.remove_prefix(slash + 1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s == "." || s == "..") {
    return BadName("the file name is empty (after dropping any folder part)");
  }
  if (!IsValidUtf8(s)) return BadName("the file name is not valid UTF-8");
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return BadName("the file name holds a control character");
  }
  if (s.size() > kMaxAttachmentNameBytes) {
    return BadName("the file name is longer than " + std::to_string(kMaxAttachmentNameBytes) +
                   " bytes; shorten it");
  }
  return std::string(s);
}

std::vector<std::string> AttachmentAddresses(const FormData& form) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& [name, v] : form) Collect(v, &seen, &out);
  return out;
}

boost::json::object AttachmentNamesJson(Store& store, const FormData& form) {
  return AttachmentNamesJson(store, AttachmentAddresses(form));
}

boost::json::object AttachmentNamesJson(Store& store, const std::vector<std::string>& addresses) {
  boost::json::object o;
  if (addresses.empty()) return o;
  auto names = store.AttachmentNames(addresses);
  if (!names) return o;
  for (const auto& [hash, name] : *names) o[hash] = name;
  return o;
}

}  // namespace approvald::api
