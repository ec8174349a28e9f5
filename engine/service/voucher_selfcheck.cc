#include "service/voucher_selfcheck.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "audit/leaf.h"
#include "core/record_util.h"
#include "core/sampling.h"

namespace approvald {
namespace {

constexpr const char* kRecordType = "voucher_selfcheck_sampled";

std::string PeriodName(int year, unsigned month) {
  std::string m = std::to_string(month);
  if (m.size() < 2) m = "0" + m;
  std::string y = std::to_string(year);
  while (y.size() < 4) y = "0" + y;
  return y + "-" + m;
}

Timestamp MonthStart(int year, unsigned month) {
  return Timestamp{int64_t{DateFromCivil(year, month, 1).days} * kMsPerDay - kShanghaiOffsetMs};
}

// At most `max` code points of UTF-8 text `s`.
std::string Truncate(const std::string& s, size_t max) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == max) return s.substr(0, i);
      ++count;
    }
  }
  return s;
}

Value IdList(const std::vector<InstanceId>& ids) {
  Value::List l;
  for (const auto& id : ids) l.push_back(Value::Int(id.value));
  return Value::Of(std::move(l));
}

std::vector<InstanceId> IdsOf(const Value::Record& r, const std::string& key) {
  std::vector<InstanceId> out;
  for (const Value& v : rec::List(r, key)) {
    if (v.is_int()) out.push_back(InstanceId{v.as_int()});
  }
  return out;
}

// The batch record of `subject`, if one was appended.
Result<std::optional<AuditRecord>> FindBatchRecord(Store& store, const std::string& subject) {
  AuditQuery q;
  q.type = kRecordType;
  q.limit = 500;
  for (;;) {
    auto entries = store.QueryAudit(q);
    if (!entries) return std::unexpected(entries.error());
    for (const AuditEntry& e : *entries) {
      q.after_index = std::max(q.after_index, e.index);
      auto leaf = audit::ParseLeaf(e.leaf_data);
      if (leaf && leaf->record && leaf->record->subject == subject) {
        return std::optional<AuditRecord>(*leaf->record);
      }
    }
    if (static_cast<int>(entries->size()) < q.limit) return std::optional<AuditRecord>();
  }
}

}  // namespace

Result<SelfCheckOptions> SelfCheckOptions::FromUnitConfig(const Value::Record& unit_config) {
  SelfCheckOptions o;
  auto it = unit_config.find("self_check");
  if (it == unit_config.end() || !it->second.is_record()) {
    o.enabled = false;
    return o;
  }
  const Value::Record& r = it->second.as_record();
  if (const Value* v = rec::Find(r, "sample_size"); v && v->is_int()) {
    if (v->as_int() < 1 || v->as_int() > 10000) {
      return InvalidArgument("bad_self_check_config",
                             "self_check.sample_size must be 1..10000, got " +
                                 std::to_string(v->as_int()) + " (config/unit.yaml)");
    }
    o.sample_size = static_cast<int>(v->as_int());
  }
  if (const Value* v = rec::Find(r, "workflows"); v && v->is_list()) {
    o.workflows.clear();
    for (const Value& w : v->as_list()) {
      if (w.is_string()) o.workflows.push_back(w.as_string());
    }
  }
  if (std::string d = rec::Str(r, "reviewer_department"); !d.empty()) o.reviewer_dept = DeptId(d);
  return o;
}

VoucherSelfCheck::VoucherSelfCheck(SelfCheckOptions options, Engine& engine,
                                   const Clock& clock, std::function<uint64_t()> seed_source)
    : options_(std::move(options)),
      engine_(engine),
      clock_(clock),
      seed_source_(std::move(seed_source)) {}

Result<SelfCheckBatch> VoucherSelfCheck::RunDue() {
  if (!options_.enabled) {
    SelfCheckBatch b;
    b.already_done = true;
    return b;
  }
  int year;
  unsigned month, day;
  CivilFromDate(ShanghaiDateOf(clock_.Now()), &year, &month, &day);
  if (month == 1) {
    --year;
    month = 12;
  } else {
    --month;
  }
  std::lock_guard lock(mu_);
  if (last_done_ == PeriodName(year, month)) {
    SelfCheckBatch b;
    b.period = last_done_;
    b.already_done = true;
    return b;
  }
  return RunLocked(year, month);
}

Result<SelfCheckBatch> VoucherSelfCheck::RunFor(int year, unsigned month) {
  if (month < 1 || month > 12) {
    return InvalidArgument("bad_month", "month must be 1..12, got " + std::to_string(month));
  }
  std::lock_guard lock(mu_);
  return RunLocked(year, month);
}

Result<SelfCheckBatch> VoucherSelfCheck::RunLocked(int year, unsigned month) {
  Store& store = engine_.store();
  SelfCheckBatch batch;
  batch.period = PeriodName(year, month);
  const std::string subject = options_.workflow + ":" + batch.period;

  auto existing = FindBatchRecord(store, subject);
  if (!existing) return std::unexpected(existing.error());
  bool resumed = existing->has_value();
  if (resumed) {
    const Value::Record& d = (*existing)->data;
    auto seed = ParseSeed(rec::Str(d, "seed"));
    if (!seed) {
      return MakeError(ErrorCode::kInternal, "bad_selfcheck_record",
                       "the audit record of " + subject + " has no valid seed");
    }
    batch.seed = *seed;
    batch.population = IdsOf(d, "population");
    batch.sampled = IdsOf(d, "sample");
  } else {
    // The month's approved reimbursements, by completion time (a terminal
    // instance's last update), ascending by id.
    const Timestamp from = MonthStart(year, month);
    const Timestamp to = month == 12 ? MonthStart(year + 1, 1) : MonthStart(year, month + 1);
    for (const std::string& wf : options_.workflows) {
      InstanceQuery q;
      q.workflow = wf;
      q.status = "approved";
      q.limit = 500;
      for (;;) {
        auto rows = store.ListInstances(q);
        if (!rows) return std::unexpected(rows.error());
        for (const InstanceRow& row : *rows) {
          q.after_id = std::max(q.after_id, row.id.value);
          if (row.updated_at >= from && row.updated_at < to) batch.population.push_back(row.id);
        }
        if (static_cast<int>(rows->size()) < q.limit) break;
      }
    }
    std::sort(batch.population.begin(), batch.population.end());
    batch.seed = seed_source_();
    for (size_t pos : SamplePositions(batch.seed, batch.population.size(),
                                      static_cast<size_t>(options_.sample_size))) {
      batch.sampled.push_back(batch.population[pos]);
    }
    if (batch.population.empty()) {
      // Nothing to sample: nothing is recorded or created (a new daemon's
      // first start appends nothing), and nothing can appear later, since
      // the month is over.
      last_done_ = batch.period;
      batch.already_done = false;
      return batch;
    }
    AuditRecord rec;
    rec.at = clock_.Now();
    rec.type = kRecordType;
    rec.actor = SystemActor();
    rec.subject = subject;
    rec.data["period"] = Value::Str(batch.period);
    rec.data["seed"] = Value::Str(FormatSeed(batch.seed));
    rec.data["sample_size"] = Value::Int(options_.sample_size);
    rec.data["population"] = IdList(batch.population);
    rec.data["sample"] = IdList(batch.sampled);
    Value::List wfs;
    for (const auto& w : options_.workflows) wfs.push_back(Value::Str(w));
    rec.data["workflows"] = Value::Of(std::move(wfs));
    rec.data["reviewer_dept"] = Value::Str(options_.reviewer_dept.value);
    if (auto st = store.AppendAudit(rec); !st) return std::unexpected(st.error());
  }

  auto org = engine_.org();
  bool all_replayed = true;
  for (size_t i = 0; i < batch.sampled.size(); ++i) {
    auto row = store.GetInstance(batch.sampled[i]);
    if (!row) return std::unexpected(row.error());
    SubmitRequest req;
    req.workflow = options_.workflow;
    req.actor = SystemActor();
    req.idempotency_key = subject + ":" + std::to_string(i + 1);
    req.data["period"] = Value::Str(batch.period);
    req.data["reimbursement"] = Value::Int(row->id.value);
    req.data["reimbursement_workflow"] = Value::Str(row->workflow);
    if (!row->title.empty()) req.data["reimbursement_title"] = Value::Str(Truncate(row->title, 200));
    if (row->amount.fen > 0) req.data["amount"] = Value::Of(row->amount);
    if (org->FindPerson(row->submitter)) req.data["claimant"] = Value::Str(row->submitter.value);
    req.data["reviewer_dept"] = Value::Str(options_.reviewer_dept.value);
    req.data["sample_seed"] = Value::Str(FormatSeed(batch.seed));
    req.data["sample_position"] = Value::Int(static_cast<int64_t>(i + 1));
    req.data["sample_size"] = Value::Int(static_cast<int64_t>(batch.sampled.size()));
    req.data["population"] = Value::Int(static_cast<int64_t>(batch.population.size()));
    auto view = engine_.Submit(req);
    if (!view) return std::unexpected(view.error());
    all_replayed = all_replayed && view->replayed;
    batch.created.push_back(view->row.id);
  }
  batch.already_done = resumed && all_replayed;
  last_done_ = batch.period;
  spdlog::info("voucher_selfcheck period={} seed={} population={} sampled={} resumed={}",
               batch.period, FormatSeed(batch.seed), batch.population.size(),
               batch.sampled.size(), resumed);
  return batch;
}

}  // namespace approvald
