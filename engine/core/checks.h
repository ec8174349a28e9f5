// Automatic check steps: named, pure functions a workflow's `kind: check`
// node calls. Each returns pass / fail / flag with reasons. The registry is
// filled at start-up with the built-in checks; the domain issue adds the
// procurement, split-purchase, duplicate-invoice and expense-standard rules.
#ifndef APPROVALD_CORE_CHECKS_H_
#define APPROVALD_CORE_CHECKS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/value.h"

namespace approvald {

enum class CheckVerdict { kPass, kFail, kFlag };
std::string_view CheckVerdictName(CheckVerdict v);  // "pass" | "fail" | "flag"

struct CheckOutcome {
  CheckVerdict verdict = CheckVerdict::kPass;
  std::vector<std::string> reasons;   // stable codes, e.g. "duplicate_invoice:FP-001"
  Value::Record details;              // recorded in the event (rule, catalogue version, ...)
};

// Facts from outside the instance that a check may need (other instances'
// invoice numbers, the year's purchases). The service gathers them before
// calling Decide; the core only reads them.
struct CheckFacts {
  // "invoice_numbers": list of text already used by other instances, etc.
  Value::Record values;
};

struct CheckInput {
  const FormData* form = nullptr;
  const Org* org = nullptr;
  PersonId submitter;
  Timestamp now;
  const std::map<std::string, Value>* params = nullptr;  // from the node
  const CheckFacts* facts = nullptr;
  const Value::Record* config = nullptr;  // unit configuration (catalogue, thresholds)
};

using CheckFn = std::function<Result<CheckOutcome>(const CheckInput&)>;

// The set of named checks. Thread-compatible: fill it before use, then share
// it read-only.
class CheckRegistry {
 public:
  // The registry with every built-in check.
  static const CheckRegistry& Builtin();

  void Register(std::string name, CheckFn fn);
  bool Has(const std::string& name) const { return checks_.count(name) > 0; }
  const CheckFn* Find(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, CheckFn> checks_;
};

}  // namespace approvald

#endif  // APPROVALD_CORE_CHECKS_H_
