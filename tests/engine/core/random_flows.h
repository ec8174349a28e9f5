// Random flows for the engine's property tests: random forms and values for
// a workflow's fields, and the list of every action a command can name.
// Header-only, for tests/engine/core.
#ifndef APPROVALD_TESTS_ENGINE_CORE_RANDOM_FLOWS_H_
#define APPROVALD_TESTS_ENGINE_CORE_RANDOM_FLOWS_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/decide.h"

namespace approvald::testing_flows {

namespace fs = std::filesystem;

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int64_t>(v.size()) - 1))];
  }

  Value ValueOf(const FieldDef& f, const Type& t, const Org& org) {
    switch (t.kind) {
      case TypeKind::kNull: return Value();
      case TypeKind::kBool: return Value::Bool(Chance(0.5));
      case TypeKind::kInt:
        return Value::Int(Int(f.min.value_or(0), f.max.value_or(f.min.value_or(0) + 100)));
      case TypeKind::kMoney: {
        int64_t lo = f.min.value_or(1);
        int64_t hi = f.max.value_or(lo + 20000000);
        // Favour amounts around common thresholds as well as small ones.
        int64_t v = Chance(0.3) ? Int(lo, std::min(hi, lo + 10000000)) : Int(lo, std::min(hi, lo + 500000));
        return Value::Of(Money{v});
      }
      case TypeKind::kDate: return Value::Of(Date{static_cast<int32_t>(19723 + Int(0, 365))});
      case TypeKind::kDateTime: return Value::Of(Timestamp{1704067200000 + Int(0, 1000) * kMsPerHour});
      case TypeKind::kText: {
        int n = t.max_length > 0 ? static_cast<int>(std::min<int64_t>(t.max_length, 8)) : 8;
        return Value::Str(std::string(static_cast<size_t>(Int(1, n)), 'a'));
      }
      case TypeKind::kEnum: return Value::Str(Pick(t.options));
      case TypeKind::kPerson: return Value::Str(Pick(org.people).id.value);
      case TypeKind::kDept: return Value::Str(Pick(org.departments).id.value);
      case TypeKind::kAttachment: return Value::Str("sha256:" + std::string(64, 'a'));
      case TypeKind::kList: {
        Value::List l;
        int n = static_cast<int>(Int(std::max(1, f.min_items), f.max_items > 0 ? f.max_items : 3));
        FieldDef ef;
        for (int i = 0; i < n && t.element; ++i) l.push_back(ValueOf(ef, *t.element, org));
        return Value::Of(std::move(l));
      }
      case TypeKind::kRecord: {
        Value::Record r;
        if (t.fields)
          for (const auto& sf : *t.fields) r[sf.name] = ValueOf(sf, sf.type, org);
        // Unique-ish invoice numbers so duplicate checks pass most of the time.
        if (r.count("number") && r["number"].is_string())
          r["number"] = Value::Str("N" + std::to_string(Int(0, 1000000)));
        return Value::Of(std::move(r));
      }
    }
    return Value();
  }

  FormData Form(const std::vector<FieldDef>& fields, const Org& org, bool all) {
    FormData f;
    for (const auto& fd : fields)
      if (fd.required || all || Chance(0.7)) f[fd.name] = ValueOf(fd, fd.type, org);
    return f;
  }

 private:
  std::mt19937_64 rng_;
};

inline const char* const kAllActions[] = {
    action::kApprove, action::kReject, action::kComplete, action::kReturn,
    action::kWithdraw, action::kResubmit, action::kCancel, action::kTakeBack,
    action::kTransfer, action::kDelegate, action::kResolve, action::kAddSigner,
    action::kRemoveSigner, action::kCc, action::kUrge, action::kComment,
    action::kDistribute, action::kAcknowledge, action::kAttend, action::kOpen,
    action::kRecuse, action::kOpinion, action::kVote, action::kClose};

}  // namespace approvald::testing_flows

#endif  // APPROVALD_TESTS_ENGINE_CORE_RANDOM_FLOWS_H_
