// Small helpers for reading and building Value::Record event payloads.
// Internal to engine/core.
#ifndef APPROVALD_CORE_RECORD_UTIL_H_
#define APPROVALD_CORE_RECORD_UTIL_H_

#include <string>
#include <vector>

#include "approvald/types.h"
#include "approvald/value.h"

namespace approvald::rec {

inline const Value* Find(const Value::Record& r, const std::string& key) {
  auto it = r.find(key);
  return it == r.end() ? nullptr : &it->second;
}
inline std::string Str(const Value::Record& r, const std::string& key) {
  const Value* v = Find(r, key);
  return v && v->is_string() ? v->as_string() : std::string();
}
inline int64_t Int(const Value::Record& r, const std::string& key,
                   int64_t def = 0) {
  const Value* v = Find(r, key);
  return v && v->is_int() ? v->as_int() : def;
}
inline bool Bool(const Value::Record& r, const std::string& key, bool def = false) {
  const Value* v = Find(r, key);
  return v && v->is_bool() ? v->as_bool() : def;
}
inline const Value::List& List(const Value::Record& r, const std::string& key) {
  static const Value::List kEmpty;
  const Value* v = Find(r, key);
  return v && v->is_list() ? v->as_list() : kEmpty;
}
inline const Value::Record& Sub(const Value::Record& r, const std::string& key) {
  static const Value::Record kEmpty;
  const Value* v = Find(r, key);
  return v && v->is_record() ? v->as_record() : kEmpty;
}
inline std::vector<PersonId> People(const Value::Record& r, const std::string& key) {
  std::vector<PersonId> out;
  for (const Value& v : List(r, key))
    if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}
inline Value PeopleValue(const std::vector<PersonId>& people) {
  Value::List l;
  l.reserve(people.size());
  for (const auto& p : people) l.push_back(Value::Str(p.value));
  return Value::Of(std::move(l));
}
inline Value StrList(const std::vector<std::string>& items) {
  Value::List l;
  for (const auto& s : items) l.push_back(Value::Str(s));
  return Value::Of(std::move(l));
}

}  // namespace approvald::rec

#endif  // APPROVALD_CORE_RECORD_UTIL_H_
