// The monthly voucher self-check (每月凭证自查, seed finding 8): at the start
// of every month, sample the previous month's approved reimbursements and
// open one review task for the reviewing department (计财室) per sampled
// reimbursement, as instances of workflows/voucher-selfcheck.yaml.
//
// Driven by the Clock port: RunDue() works out the month from the clock, so a
// test pins it with FakeClock; the daemon calls RunDue() from its background
// loop (api/serve.cc) and the scheduler decides whether anything is due.
//
// Reproducible: the sample is drawn with core/sampling.h from a seed and the
// population (the ids of the month's approved reimbursements, ascending).
// Before it creates anything, the scheduler appends an audit record
//   type "voucher_selfcheck_sampled", actor "system",
//   subject "voucher-selfcheck:<YYYY-MM>",
//   data {period, seed (16 hex), sample_size, population (list of ids),
//         sample (list of ids, draw order), workflows, reviewer_dept}
// and every created instance carries the seed, its position and the sizes in
// its form. SamplePositions(seed, population.size(), sample_size) over the
// recorded population gives the recorded sample.
//
// A month without approved reimbursements records and creates nothing.
//
// Idempotent per month: if the record for the month exists (a restart, a
// second trigger, a crash half-way through the batch), its seed and sample
// are reused and each instance is submitted with the idempotency key
// "voucher-selfcheck:<YYYY-MM>:<position>", so a repeat creates nothing new.
// Thread-safe: runs are serialised.
#ifndef APPROVALD_SERVICE_VOUCHER_SELFCHECK_H_
#define APPROVALD_SERVICE_VOUCHER_SELFCHECK_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "approvald/clock.h"
#include "approvald/status.h"
#include "approvald/types.h"
#include "approvald/value.h"
#include "service/engine.h"

namespace approvald {

struct SelfCheckOptions {
  bool enabled = true;
  // Reimbursements sampled per month (all of them when there are fewer).
  int sample_size = 10;
  // Workflows whose approved instances are reimbursements.
  std::vector<std::string> workflows = {"expense"};
  // The department whose members review (計财室).
  DeptId reviewer_dept = DeptId("finance");
  // The workflow the review tasks run on.
  std::string workflow = "voucher-selfcheck";

  // From the unit configuration's `self_check` record (config/unit.yaml:
  // sample_size, workflows, reviewer_department); absent keys keep the
  // defaults above, an absent record disables the scheduler.
  // kInvalidArgument ("bad_self_check_config") for a sample size below 1.
  static Result<SelfCheckOptions> FromUnitConfig(const Value::Record& unit_config);
};

struct SelfCheckBatch {
  std::string period;                 // "2024-03" (Asia/Shanghai month)
  uint64_t seed = 0;
  std::vector<InstanceId> population; // the month's approved reimbursements, ascending
  std::vector<InstanceId> sampled;    // in draw order
  std::vector<InstanceId> created;    // the self-check instances, position order
  bool already_done = false;          // the batch existed: nothing new was created
};

class VoucherSelfCheck {
 public:
  // `seed_source` yields the seed of a new month's batch (the daemon passes
  // a CSPRNG; tests a constant). `engine` and `clock` must outlive this.
  VoucherSelfCheck(SelfCheckOptions options, Engine& engine, const Clock& clock,
                   std::function<uint64_t()> seed_source);

  // Runs the batch of the month before the clock's Shanghai month unless it
  // is done already (then answers from memory after the first check).
  // Disabled: returns an empty batch with already_done set.
  Result<SelfCheckBatch> RunDue();
  // Runs (or completes, or reports) the batch of one month, 1 <= month <= 12.
  Result<SelfCheckBatch> RunFor(int year, unsigned month);

 private:
  Result<SelfCheckBatch> RunLocked(int year, unsigned month);

  SelfCheckOptions options_;
  Engine& engine_;
  const Clock& clock_;
  std::function<uint64_t()> seed_source_;
  std::mutex mu_;
  std::string last_done_;  // period known to be complete
};

}  // namespace approvald

#endif  // APPROVALD_SERVICE_VOUCHER_SELFCHECK_H_
