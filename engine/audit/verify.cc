// VerifyLog (verify.h). One streaming pass over the log; per leaf the hot
// path is one SHA-256 of the leaf, about one node hash for the tree, a prefix
// compare and a hash-map update, with no allocation (the pipelined scan's
// batches are reused). Everything that is only needed to *name* a failure
// (bisection, re-reading a block) runs after a failure has been detected.
#include "audit/verify.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "audit/encoding.h"
#include "audit/leaf.h"
#include "audit/merkle.h"

namespace approvald::audit {
namespace {

// Recomputed nodes at this level and above are kept (2 per 2^kSparseLevel
// leaves) so that a root mismatch can be bisected down to one block, which
// is then re-read and replayed leaf by leaf.
constexpr int kSparseLevel = 8;
constexpr int64_t kBlock = int64_t{1} << kSparseLevel;

constexpr std::string_view kEventDefHashPrefix = R"({"kind":"event","v":1,"def_hash":)";

std::string Sha256Id(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return "sha256:" + HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

// The definition hash inside an event leaf, without decoding the leaf. The
// hash is a plain "sha256:<hex>" string, so it has no escapes; anything else
// yields an empty view (and the caller treats the leaf as naming no
// definition that could be found).
std::string_view DefHashOf(std::string_view leaf) {
  if (!leaf.starts_with(kEventDefHashPrefix)) return {};
  std::string_view rest = leaf.substr(kEventDefHashPrefix.size());
  if (rest.empty() || rest[0] != '"') return {};
  size_t end = rest.find('"', 1);
  if (end == std::string_view::npos) return {};
  std::string_view hash = rest.substr(1, end - 1);
  if (hash.find('\\') != std::string_view::npos) return {};
  return hash;
}

// A copy of what names a leaf (no leaf data), for failure reports.
AuditEntry EntryOf(const AuditLeafView& v) {
  AuditEntry e;
  e.index = v.index;
  e.kind = std::string(v.kind);
  e.at = v.at;
  e.instance = v.instance;
  e.version = v.version;
  e.type = std::string(v.type);
  e.actor = PersonId(std::string(v.actor));
  return e;
}

// The canonical JSON string literal of a definition hash when it needs no
// escaping (it is "sha256:<hex>" for every definition approvald stores).
bool IsPlainJsonString(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

// Whether the canonical event `body` names instance `instance` and version
// `version`. The canonical encoding ends with "version" and has "instance"
// as the last member before the string members node, on_behalf_of and type,
// whose quotes are escaped, so the last ',"instance":' is the member.
bool BodyNames(std::string_view body, int64_t instance, int64_t version) {
  // Runs for every event leaf: no allocation.
  char num[24];
  constexpr std::string_view kVersion = ",\"version\":";
  auto [vend, verr] = std::to_chars(num, num + sizeof num, version);
  if (verr != std::errc()) return false;
  std::string_view v(num, static_cast<size_t>(vend - num));
  if (body.size() < kVersion.size() + v.size() + 1 || body.back() != '}') return false;
  std::string_view tail = body.substr(body.size() - kVersion.size() - v.size() - 1);
  if (!tail.starts_with(kVersion) || tail.substr(kVersion.size(), v.size()) != v) return false;
  constexpr std::string_view kInstance = ",\"instance\":";
  size_t at = body.rfind(kInstance);
  if (at == std::string_view::npos) return false;
  auto [iend, ierr] = std::to_chars(num, num + sizeof num, instance);
  if (ierr != std::errc()) return false;
  std::string_view i(num, static_cast<size_t>(iend - num));
  std::string_view member = body.substr(at + kInstance.size());
  return member.starts_with(i) && member.substr(i.size()).starts_with(",");
}

// What comparing an event leaf with the stored event (and its instance's
// definition hash) found; computed by the reading threads of the pipelined
// scan, turned into a failure by Verifier::CheckEventBytes in log order.
enum class EventBytes : uint8_t {
  kSame,        // the leaf is EventLeafData(stored event, instance's def hash)
  kNoInstance,  // no instance row
  kNoEvent,     // no event row
  kDiffer,      // the bytes differ
  kMisnamed,    // equal bytes, but the event names another instance / version
};

// Whether `leaf` is exactly EventLeafData(event with canonical bytes `body`,
// definition hash `def`): prefix, hash literal, middle, event bytes, '}'.
bool IsEventLeafOf(std::string_view leaf, std::string_view def, std::string_view body) {
  constexpr std::string_view kMiddle = R"(,"event":)";
  const size_t p = kEventDefHashPrefix.size();
  if (IsPlainJsonString(def)) {  // the literal is the hash in quotes
    const size_t lit = def.size() + 2;
    return leaf.size() == p + lit + kMiddle.size() + body.size() + 1 &&
           leaf.starts_with(kEventDefHashPrefix) && leaf[p] == '"' &&
           leaf.substr(p + 1, def.size()) == def && leaf[p + lit - 1] == '"' &&
           leaf.substr(p + lit, kMiddle.size()) == kMiddle &&
           leaf.substr(p + lit + kMiddle.size(), body.size()) == body && leaf.back() == '}';
  }
  std::string literal = EncodeValue(Value::Str(std::string(def)));
  return leaf.size() == p + literal.size() + kMiddle.size() + body.size() + 1 &&
         leaf.starts_with(kEventDefHashPrefix) && leaf.substr(p, literal.size()) == literal &&
         leaf.substr(p + literal.size(), kMiddle.size()) == kMiddle &&
         leaf.substr(p + literal.size() + kMiddle.size(), body.size()) == body &&
         leaf.back() == '}';
}

// The byte-for-byte check of an event leaf yielded by ScanAuditLeaves with
// events; a pure function of the row.
EventBytes CompareEventBytes(const AuditLeafView& e) {
  if (!e.instance_def_hash) return EventBytes::kNoInstance;
  if (!e.event_body) return EventBytes::kNoEvent;
  if (!IsEventLeafOf(e.leaf_data, *e.instance_def_hash, *e.event_body)) {
    return EventBytes::kDiffer;
  }
  if (!BodyNames(*e.event_body, e.instance.value, e.version)) return EventBytes::kMisnamed;
  return EventBytes::kSame;
}

// What a reading thread worked out for a leaf, applied by Verifier::OnEntry
// in log order: its recomputed hash, the kind its data starts with
// (LeafKindOf), the definition hash an event leaf names (DefHashOf) and
// (event leaves, with events) the event comparison. With these the verifying
// thread never reads the leaf data itself.
struct Prechecked {
  Hash leaf{};
  EventBytes event = EventBytes::kSame;
  std::string_view data_kind;  // LeafKindOf(leaf data): a constant, or empty
  std::string_view def_hash;   // DefHashOf(leaf data); points into the batch
};

std::string Describe(const AuditEntry& e) {
  std::string s = "leaf " + std::to_string(e.index) + " (" + e.kind;
  if (e.kind == kEventLeafKind) {
    s += ": instance " + std::to_string(e.instance.value) + " version " +
         std::to_string(e.version);
  } else if (!e.kind.empty()) {
    s += ":";
  }
  if (!e.type.empty()) s += " \"" + e.type + "\"";
  if (!e.actor.empty()) s += " by " + e.actor.value;
  s += " at " + FormatTimestampShanghai(e.at) + " UTC+8)";
  return s;
}

// What the scan knows about one instance. `expected` holds the leaf hashes
// re-derived from the stored events (version v at [v - 1]) while some of
// them are still to be seen; it is dropped once all are, so memory follows
// the number of instances with events still ahead in the log.
struct InstanceTrack {
  int64_t last_version = 0;
  bool loaded = false;
  std::vector<Hash> expected;
  // The store could not read this instance's events back (a row altered or
  // removed outside approvald): the first version it could not vouch for,
  // and what the store said.
  int64_t corrupt_version = 0;
  std::string corrupt_message;
};

// The version a store's "corrupt_history" error is about. Stores name it as
// "stored event version N ..." and, for a gap, "... follows version M" (then
// version M + 1 is the one missing). 0 if the message names none.
int64_t CorruptVersionOf(const std::string& message) {
  auto number_after = [&](std::string_view word) -> int64_t {
    size_t at = message.find(word);
    if (at == std::string::npos) return 0;
    int64_t v = 0;
    for (size_t i = at + word.size();
         i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
      v = v * 10 + (message[i] - '0');
      if (v > (int64_t{1} << 50)) return 0;
    }
    return v;
  };
  if (int64_t m = number_after(" follows version "); m > 0) return m + 1;
  return number_after("version ");
}

// Leaves copied out of a ScanAuditLeaves scan by a reading thread, for the
// verifying thread (VerifyOptions::pipeline), each with what the reading
// thread already worked out (Prechecked). Strings live in one buffer, reused
// from batch to batch, so a batch costs no allocation once warm.
class LeafBatch {
 public:
  void Clear() {
    bytes_.clear();
    rows_.clear();
  }
  size_t size() const { return rows_.size(); }
  // Copies what names `v` and prechecks it: its leaf hash, the kind its
  // data starts with, an event leaf's definition hash and, with
  // `with_events`, an event leaf's comparison with the stored event. Of the
  // leaf data only the first kLeafPrefix bytes are kept (all a failure
  // message quotes); the stored event's bytes and definition hash are
  // compared here, so only whether they were there is kept (View yields them
  // as empty views).
  void Add(const AuditLeafView& v, bool with_events) {
    Row& r = rows_.emplace_back();
    r.view = v;
    for (size_t i = 0; i < std::size(kTexts); ++i) r.spans[i] = Put(v.*kTexts[i]);
    r.spans[std::size(kTexts)] = Put(v.leaf_data.substr(0, kLeafPrefix));
    for (size_t i = 0; i < std::size(kOptionalTexts); ++i) {
      r.has[i] = (v.*kOptionalTexts[i]).has_value();
    }
    r.pre.leaf = LeafHash(v.leaf_data);
    r.pre.data_kind = LeafKindOf(v.leaf_data);
    if (r.pre.data_kind == kEventLeafKind) r.def_hash = Put(DefHashOf(v.leaf_data));
    if (with_events && v.kind == kEventLeafKind) r.pre.event = CompareEventBytes(v);
  }
  // Row i as the scan yielded it, but for the event bytes and definition
  // hash (empty when present; see Add) and the leaf data, cut to its first
  // kLeafPrefix bytes; valid until the batch is cleared.
  AuditLeafView View(size_t i) const {
    const Row& r = rows_[i];
    AuditLeafView v = r.view;  // the numbers; the views are re-pointed here
    for (size_t t = 0; t < std::size(kTexts); ++t) v.*kTexts[t] = Get(r.spans[t]);
    v.leaf_data = Get(r.spans[std::size(kTexts)]);
    for (size_t t = 0; t < std::size(kOptionalTexts); ++t) {
      v.*kOptionalTexts[t] =
          r.has[t] ? std::optional<std::string_view>(std::string_view()) : std::nullopt;
    }
    return v;
  }
  // What Add worked out for row i; valid until the batch is cleared.
  Prechecked pre(size_t i) const {
    Prechecked p = rows_[i].pre;
    p.def_hash = Get(rows_[i].def_hash);
    return p;
  }
  // How much of a leaf's data View keeps (Verifier::OnEntry quotes 40).
  static constexpr size_t kLeafPrefix = 40;

 private:
  // The views of an AuditLeafView copied into bytes_, and those of which
  // only the presence is kept.
  static constexpr std::string_view AuditLeafView::* kTexts[] = {
      &AuditLeafView::kind, &AuditLeafView::type, &AuditLeafView::actor};
  static constexpr std::optional<std::string_view> AuditLeafView::* kOptionalTexts[] = {
      &AuditLeafView::event_body, &AuditLeafView::instance_def_hash};
  struct Span {
    size_t at = 0;
    size_t size = 0;
  };
  struct Row {
    AuditLeafView view;  // its views point into the scan's buffers: not used
    Span spans[std::size(kTexts) + 1];  // kTexts, then the leaf data's prefix
    bool has[std::size(kOptionalTexts)] = {};
    Prechecked pre;  // but for def_hash, which is here:
    Span def_hash;
  };
  Span Put(std::string_view s) {
    Span span{bytes_.size(), s.size()};
    bytes_.append(s);
    return span;
  }
  std::string_view Get(Span s) const { return std::string_view(bytes_).substr(s.at, s.size); }

  std::string bytes_;
  std::vector<Row> rows_;
};

// A bounded hand-over of batches from one reading thread to the verifying
// one, in the order they were pushed, with the emptied batches flowing back
// for reuse.
class BatchPipe {
 public:
  explicit BatchPipe(size_t in_flight) : in_flight_(in_flight) {}

  // Reader: an empty batch (reused when one is free).
  std::unique_ptr<LeafBatch> TakeEmpty() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::make_unique<LeafBatch>();
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  // Reader: hands over a filled batch, waiting while `in_flight` are queued.
  // False once the verifier has stopped (the reader should stop too).
  bool Push(std::unique_ptr<LeafBatch> b) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return stopped_ || full_.size() < in_flight_; });
    if (stopped_) return false;
    full_.push_back(std::move(b));
    not_empty_.notify_one();
    return true;
  }
  // Reader: no more batches; `status` is how the scan ended.
  void Close(Status status) {
    std::lock_guard lock(mu_);
    closed_ = true;
    status_ = std::move(status);
    not_empty_.notify_one();
  }
  // Verifier: the next batch, or nullptr once the reader closed and every
  // batch was taken.
  std::unique_ptr<LeafBatch> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !full_.empty(); });
    if (full_.empty()) return nullptr;
    auto b = std::move(full_.front());
    full_.pop_front();
    not_full_.notify_one();
    return b;
  }
  void Recycle(std::unique_ptr<LeafBatch> b) {
    b->Clear();
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }
  // Verifier: wants no more batches; a waiting or later Push returns false.
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    full_.clear();
    not_full_.notify_one();
  }
  // How the scan ended; call after Pop returned nullptr or the reader
  // finished.
  Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  const size_t in_flight_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<std::unique_ptr<LeafBatch>> full_;
  std::vector<std::unique_ptr<LeafBatch>> free_;
  bool stopped_ = false;
  bool closed_ = false;
  Status status_ = Ok();
};

// Instance id -> last logged version, for the scan's event order check:
// open addressing in one array (no allocation per instance, one probe for
// the usual sequential ids), the last slot found remembered since an
// instance's events mostly follow one another. A version of 0 marks a free
// slot: At() yields 0 for an instance not seen, and the caller stores a
// version >= 1 before asking for another instance (or stops the scan).
class VersionTable {
 public:
  // The last version stored for `id` (0 if none), to read and assign.
  int64_t& At(int64_t id) {
    if (last_ != nullptr && last_->id == id) return last_->version;
    if (slots_.empty() || (used_ + 1) * 2 > slots_.size()) Grow();
    for (size_t i = Home(id);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& s = slots_[i];
      if (s.version != 0 && s.id != id) continue;
      if (s.version == 0) {  // free: claimed for `id` (should the caller
        s.id = id;           // leave it at 0, it stays free; counting it
        ++used_;             // anyway only makes the table grow sooner)
      }
      last_ = &s;
      return s.version;
    }
  }
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.version != 0) f(s.id, s.version);
    }
  }

 private:
  struct Slot {
    int64_t id = 0;
    int64_t version = 0;
  };
  size_t Home(int64_t id) const {
    return static_cast<size_t>((static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    size_t n = old.empty() ? 1024 : old.size() * 2;
    slots_.assign(n, Slot{});
    shift_ = 64 - std::countr_zero(n);
    used_ = 0;
    last_ = nullptr;
    for (const Slot& s : old) {
      if (s.version == 0) continue;
      size_t i = Home(s.id);
      while (slots_[i].version != 0) i = (i + 1) & (n - 1);
      slots_[i] = s;
      ++used_;
    }
  }

  std::vector<Slot> slots_;
  size_t used_ = 0;
  int shift_ = 64;
  Slot* last_ = nullptr;
};

class Verifier {
 public:
  Verifier(Store& store, const LogKey& key, const VerifyOptions& options)
      : store_(store), key_(key), options_(options) {}

  Result<VerifyReport> Run();

 private:
  // The ScanAuditLeaves pass with the store read on other threads
  // (VerifyOptions::pipeline, read_threads); *yielded tells whether any
  // leaf came.
  Status ScanPipelined(bool* yielded);
  // Returns false to stop the scan (a failure was recorded or an error hit).
  // Never calls the store while a ScanAuditLeaves scan runs (fast_).
  // `pre`, when a reading thread prechecked the leaf, replaces hashing it,
  // reading its kind and definition hash and comparing it with its event
  // here; then e.leaf_data need hold only the bytes a failure message quotes
  // (LeafBatch::kLeafPrefix).
  bool OnEntry(const AuditLeafView& e, const Prechecked* pre = nullptr);
  // check_events through LoadEvents / GetInstance (stores without
  // ScanAuditLeaves).
  bool CheckEvent(const AuditLeafView& e, const Hash& leaf, InstanceTrack& track);
  // check_events byte for byte against the stored event the scan yields:
  // records the failure `found` (CompareEventBytes(e)) stands for.
  bool CheckEventBytes(const AuditLeafView& e, EventBytes found);
  // After a fast scan: stored events that no leaf records.
  Status CheckCountedEvents();
  Status CheckNotLogged();
  Status CheckDefinitions();
  Status OnRootMismatch(int64_t size, const std::string& code, const std::string& what);
  // The first leaf whose recomputed hash disagrees with the store's tree
  // among leaves [0, hi); -1 if the store's tree agrees with the recomputed
  // one at every size up to hi.
  Result<int64_t> FirstDifferenceWithStore(int64_t hi);
  Result<bool> AgreesWithStore(int64_t size, const Hash& recomputed);
  Result<AuditEntry> ReadEntry(int64_t index);
  // If the store's tree shows that a leaf in [last good checkpoint, hi) is
  // not the one originally logged, replaces the failure with
  // "leaf_replaced" naming it (adding `then`) and returns true.
  Result<bool> ReportReplacedLeaf(int64_t hi, const std::string& then);

  void Fail(std::string code, const AuditLeafView& e, std::string message) {
    if (report_.failure) return;
    AuditEntry named = EntryOf(e);
    if (!e.named) unnamed_failure_ = FirstUse{named, message};
    Fail(std::move(code), &named, std::move(message));
  }
  void Fail(std::string code, const AuditEntry* e, std::string message) {
    if (report_.failure) return;
    VerifyFailure f;
    f.code = std::move(code);
    if (e) {
      f.index = e->index;
      f.kind = e->kind;
      f.instance = e->instance;
      f.version = e->version;
      f.message = Describe(*e) + ": " + message;
    } else {
      f.message = std::move(message);
    }
    report_.failure = std::move(f);
  }

  Store& store_;
  const LogKey& key_;
  const VerifyOptions& options_;
  VerifyReport report_;
  std::optional<Error> error_;

  int64_t size_ = 0;                     // leaves to verify
  std::vector<Checkpoint> checkpoints_;  // sorted by size
  size_t next_checkpoint_ = 0;
  int64_t last_good_checkpoint_ = 0;

  TreeAppender tree_;
  std::vector<NodeWrite> writes_;
  MemoryNodeReader sparse_;
  int64_t next_index_ = 0;

  std::unordered_map<int64_t, InstanceTrack> instances_;  // not on the fast path
  // The fast path's last logged version of each instance (moved into
  // instances_ by CheckCountedEvents when it needs them).
  VersionTable last_versions_;
  // The fast path (Store::ScanAuditLeaves and, with events,
  // CountEventsWithAuditSize) is in use; the events the store counted with
  // the log size (set after the scan).
  bool fast_ = false;
  int64_t counted_events_ = 0;
  // A checkpoint's root differed during the scan (handled after it).
  std::optional<Checkpoint> root_mismatch_;
  // A leaf as the scan yielded it, whether the scan named it (at, type and
  // actor read; AuditLeafView::named) and, for a failure, what failed about
  // it (the message without the leaf's description).
  struct FirstUse {
    AuditEntry entry;
    std::string message;
    bool named = false;
  };
  // The failure was recorded from a leaf the scan did not name: its message
  // is completed by NameFailure once the scan is over.
  std::optional<FirstUse> unnamed_failure_;
  // Completes the failure's message with the at, type and actor of its
  // leaf, read by index (after the scan: it calls the store).
  Status NameFailure();
  // The leaf of `use` with its at, type and actor read from the store by
  // index (left as yielded if no row has that index any more).
  Result<AuditEntry> Named(const FirstUse& use);
  std::map<std::string, FirstUse, std::less<>> definitions_;  // first user
  std::string last_def_hash_;
  bool entry_failure_ = false;  // the failure came from a per-leaf check
};

Result<VerifyReport> Verifier::Run() {
  // With events checked in place, the stored events are counted together
  // with the log size (Store::CountEventsWithAuditSize): every event counted
  // has its leaf below the size. Pipelined, the count runs on a thread of
  // its own while the log is read, and is awaited after the scan; the
  // future's destructor waits for it however Run returns.
  std::promise<int64_t> size_promise;  // -1: the count failed before the size was known
  std::future<Result<int64_t>> counting;
  if (options_.in_place && options_.check_events) {
    std::future<int64_t> size_known = size_promise.get_future();
    auto count = [this, &size_promise] {
      bool sized = false;
      auto counted = store_.CountEventsWithAuditSize([&](int64_t n) {
        sized = true;
        size_promise.set_value(n);
      });
      if (!sized) size_promise.set_value(-1);
      return counted;
    };
    counting = std::async(options_.pipeline ? std::launch::async : std::launch::deferred, count);
    if (!options_.pipeline) counting.wait();  // runs the count here, now
    if (int64_t n = size_known.get(); n >= 0) {
      fast_ = true;
      size_ = n;
    } else if (Result<int64_t> counted = counting.get();
               !counted && (counted.error().code != ErrorCode::kUnavailable ||
                            counted.error().reason != "count_events_unsupported")) {
      return std::unexpected(counted.error());
    } else if (counted) {
      return std::unexpected(Error{ErrorCode::kInternal, "verify_no_log_size",
                                   "the store counted its events but did not report the "
                                   "audit log size with them"});
    }
    // else: ScanAudit and LoadEvents (the store cannot count its events).
  } else if (options_.in_place) {
    // Log only: nothing to count. A store that cannot stream its leaves in
    // place says so when asked, and the scan falls back to ScanAudit.
    fast_ = true;
  }
  if (!fast_ || !options_.check_events) {
    auto size = store_.AuditSize();
    if (!size) return std::unexpected(size.error());
    size_ = *size;
  }
  auto cps = store_.ListCheckpoints();
  if (!cps) return std::unexpected(cps.error());
  checkpoints_ = std::move(*cps);
  std::stable_sort(
      checkpoints_.begin(), checkpoints_.end(),
      [](const Checkpoint& a, const Checkpoint& b) { return a.size < b.size; });

  for (const Checkpoint& cp : checkpoints_) {
    if (!VerifyCheckpoint(key_, cp)) {
      Fail("checkpoint_signature", nullptr,
           "the checkpoint of size " + std::to_string(cp.size) + " signed at " +
               FormatTimestampUtc(cp.at) + " does not carry a valid signature by " +
               VerifierKey(key_) + ": it was altered, or signed by another key");
      return report_;
    }
    if (cp.size > size_) {
      Fail("checkpoint_beyond_log", nullptr,
           "a signed checkpoint covers " + std::to_string(cp.size) +
               " leaves but the log holds only " + std::to_string(size_) + ": leaves " +
               std::to_string(size_) + ".." + std::to_string(cp.size - 1) +
               " were removed");
      report_.failure->index = size_;
      return report_;
    }
  }
  // Checkpoints of size 0 need no leaves.
  while (next_checkpoint_ < checkpoints_.size() &&
         checkpoints_[next_checkpoint_].size == 0) {
    if (checkpoints_[next_checkpoint_].root != EmptyRoot()) {
      Fail("checkpoint_mismatch", nullptr,
           "the checkpoint of size 0 does not have the empty tree's root");
      return report_;
    }
    ++report_.checkpoints_checked;
    ++next_checkpoint_;
  }

  writes_.reserve(64);
  if (size_ > 0) {
    Status s = Ok();
    if (fast_) {
      bool yielded = false;
      s = options_.pipeline ? ScanPipelined(&yielded)
                            : store_.ScanAuditLeavesUnnamed(0, options_.check_events,
                                                            [&](const AuditLeafView& e) {
                                                              yielded = true;
                                                              return OnEntry(e);
                                                            });
      if (!s && !yielded && s.error().reason == "scan_leaves_unsupported") {
        fast_ = false;  // the store counts events but cannot stream leaves
      }
    }
    if (!fast_) {
      s = store_.ScanAudit(0, [this](const AuditEntry& e) { return OnEntry(AuditLeafView::Of(e)); });
    }
    if (error_) return std::unexpected(*error_);
    if (!s) return std::unexpected(s.error());
    if (auto named = NameFailure(); !named) return std::unexpected(named.error());
  }
  if (root_mismatch_) {
    if (auto st = OnRootMismatch(
            root_mismatch_->size, "checkpoint_mismatch",
            "the signed checkpoint of size " + std::to_string(root_mismatch_->size));
        !st) {
      return std::unexpected(st.error());
    }
    return report_;
  }
  if (report_.failure && entry_failure_) {
    // A leaf failed its own checks. An earlier leaf may have been swapped or
    // replaced in a way no per-leaf check sees (its hash and event still
    // consistent); the store's tree tells, so the first bad leaf is named.
    std::string then = "later, " + report_.failure->message;
    auto named = ReportReplacedLeaf(next_index_, then);
    if (!named) return std::unexpected(named.error());
  }
  if (report_.failure) return report_;
  if (next_index_ < size_) {
    Fail("leaf_missing", nullptr,
         "the log should hold " + std::to_string(size_) +
             " leaves but reading stopped after " + std::to_string(next_index_) +
             ": leaf " + std::to_string(next_index_) + " and later are missing");
    report_.failure->index = next_index_;
    return report_;
  }

  report_.tree_size = size_;
  report_.root = tree_.Root();
  // The tree the store serves proofs from must be the one the leaves make.
  auto agrees = AgreesWithStore(size_, report_.root);
  if (!agrees) return std::unexpected(agrees.error());
  if (!*agrees) {
    if (auto s = OnRootMismatch(size_, "tree_mismatch", "the store's Merkle tree nodes");
        !s) {
      return std::unexpected(s.error());
    }
    return report_;
  }
  if (options_.check_events) {
    if (fast_) {
      Result<int64_t> counted = counting.get();
      if (!counted) return std::unexpected(counted.error());
      counted_events_ = *counted;
    }
    if (auto s = fast_ ? CheckCountedEvents() : CheckNotLogged(); !s) {
      return std::unexpected(s.error());
    }
    if (report_.failure) return report_;
  }
  if (options_.check_definitions) {
    if (auto s = CheckDefinitions(); !s) return std::unexpected(s.error());
    if (report_.failure) return report_;
  }
  report_.ok = true;
  return report_;
}

Status Verifier::ScanPipelined(bool* yielded) {
  // Leaf indexes [0, size_) are cut into chunks; chunk c is read by thread
  // c % threads, which hands its chunks over in order through its own pipe,
  // so taking chunk c from pipe c % threads yields the leaves in log order:
  // exactly the rows one scan from 0 would yield (rows are ordered by index,
  // and the last chunk, like one scan, reads on up to the first row at or
  // beyond size_, which only a gap lets through). Each thread leases a read
  // connection only while it scans a chunk, never while it waits.
  const int threads = std::max(1, options_.read_threads);
  const int64_t chunk = std::max<int64_t>(1, options_.read_chunk);
  const int64_t size = size_;
  const int64_t chunks = (size + chunk - 1) / chunk;
  const bool with_events = options_.check_events;
  // Two chunks queued per thread (and one being read) keep both sides busy
  // and bound how far the readers run past a failure.
  constexpr size_t kQueuedPerThread = 2;
  std::vector<std::unique_ptr<BatchPipe>> pipes;
  for (int t = 0; t < threads; ++t) pipes.push_back(std::make_unique<BatchPipe>(kQueuedPerThread));
  std::atomic<bool> stop{false};
  auto read = [&](int t) {
    BatchPipe& pipe = *pipes[t];
    Status s = Ok();
    for (int64_t c = t; c < chunks && !stop.load(std::memory_order_relaxed); c += threads) {
      std::unique_ptr<LeafBatch> batch = pipe.TakeEmpty();
      const int64_t end = (c + 1) * chunk;
      const bool last = c == chunks - 1;
      s = store_.ScanAuditLeavesUnnamed(
          c * chunk, with_events, [&](const AuditLeafView& e) {
            if (!last && e.index >= end) return false;
            batch->Add(e, with_events);
            // Leaves appended after the size was read are not verified.
            return (!last || e.index + 1 < size) && !stop.load(std::memory_order_relaxed);
          });
      if (!s || !pipe.Push(std::move(batch))) break;
    }
    pipe.Close(std::move(s));
  };
  std::vector<std::thread> readers;
  // However this thread leaves (a failure, an exception), the readers are
  // released and joined.
  struct Joiner {
    std::vector<std::unique_ptr<BatchPipe>>& pipes;
    std::vector<std::thread>& readers;
    std::atomic<bool>& stop;
    ~Joiner() {
      stop.store(true, std::memory_order_relaxed);
      for (auto& pipe : pipes) pipe->Stop();
      for (std::thread& r : readers) r.join();
    }
  };
  Status status = Ok();
  {
    Joiner joiner{pipes, readers, stop};
    for (int t = 0; t < threads && t < std::max<int64_t>(chunks, 1); ++t) {
      readers.emplace_back(read, t);
    }
    for (int64_t c = 0; c < chunks; ++c) {
      BatchPipe& pipe = *pipes[c % threads];
      std::unique_ptr<LeafBatch> batch = pipe.Pop();
      if (!batch) {  // that thread's scan failed before this chunk
        status = pipe.status();
        break;
      }
      bool go = true;
      for (size_t i = 0; go && i < batch->size(); ++i) {
        *yielded = true;
        const Prechecked pre = batch->pre(i);
        go = OnEntry(batch->View(i), &pre);
      }
      pipe.Recycle(std::move(batch));
      if (!go) break;
    }
  }
  return status;
}

bool Verifier::OnEntry(const AuditLeafView& e, const Prechecked* pre) {
  if (next_index_ >= size_) return false;  // appended after we started
  entry_failure_ = true;                   // any Fail() until the leaf is accepted
  if (e.index != next_index_) {
    if (e.index > next_index_) {
      Fail("leaf_missing", nullptr,
           "leaf " + std::to_string(next_index_) +
               " is missing: the next stored leaf has index " + std::to_string(e.index) +
               " (rows were deleted)");
      report_.failure->index = next_index_;
    } else {
      Fail("leaf_out_of_order", e,
           "stored where leaf " + std::to_string(next_index_) +
               " belongs (rows were duplicated or renumbered)");
      report_.failure->index = next_index_;
    }
    return false;
  }
  const Hash leaf = pre ? pre->leaf : LeafHash(e.leaf_data);
  if (leaf != e.leaf_hash) {
    Fail("leaf_hash_mismatch", e,
         "its stored data does not hash to its stored leaf hash: the data "
         "was changed after it was logged");
    return false;
  }
  std::string_view kind = pre ? pre->data_kind : LeafKindOf(e.leaf_data);
  if (kind.empty() || kind != e.kind) {
    Fail("leaf_malformed", e,
         "its data is not a " + std::string(e.kind) +
             " leaf (it starts: " + std::string(e.leaf_data.substr(0, 40)) + ")");
    return false;
  }
  if (kind == kEventLeafKind) {
    // The fast path keeps only each instance's last version, in a flat
    // table (no allocation per instance); the other needs InstanceTrack.
    int64_t& last = fast_ ? last_versions_.At(e.instance.value)
                          : instances_[e.instance.value].last_version;
    if (e.version != last + 1) {
      Fail("event_out_of_order", e,
           "instance " + std::to_string(e.instance.value) + " has version " +
               std::to_string(e.version) + " logged after version " +
               std::to_string(last) + ": leaves were reordered, removed or duplicated");
      return false;
    }
    last = e.version;
    if (options_.check_events) {
      bool good = !fast_   ? CheckEvent(e, leaf, instances_[e.instance.value])
                  : pre ? CheckEventBytes(e, pre->event)
                        : CheckEventBytes(e, CompareEventBytes(e));
      if (!good) return false;
    }
    if (options_.check_definitions) {
      std::string_view def = pre ? pre->def_hash : DefHashOf(e.leaf_data);
      if (def != last_def_hash_) {  // consecutive events mostly share one
        last_def_hash_.assign(def);
        if (definitions_.find(def) == definitions_.end()) {
          definitions_.emplace(std::string(def), FirstUse{EntryOf(e), {}, e.named});
        }
      }
    }
  }

  entry_failure_ = false;
  tree_.Append(leaf, &writes_);
  for (const NodeWrite& w : writes_) {
    if (w.ref.level >= kSparseLevel) sparse_.Put(w);
  }
  ++next_index_;
  ++report_.entries_checked;
  if (options_.progress && options_.progress_every > 0 &&
      next_index_ % options_.progress_every == 0) {
    options_.progress(next_index_, size_);
  }

  while (next_checkpoint_ < checkpoints_.size() &&
         checkpoints_[next_checkpoint_].size == next_index_) {
    const Checkpoint& cp = checkpoints_[next_checkpoint_];
    if (tree_.Root() != cp.root) {
      root_mismatch_ = cp;  // named after the scan, which must not be re-entered
      return false;
    }
    last_good_checkpoint_ = cp.size;
    ++report_.checkpoints_checked;
    ++next_checkpoint_;
  }
  return true;
}

bool Verifier::CheckEventBytes(const AuditLeafView& e, EventBytes found) {
  switch (found) {
    case EventBytes::kSame:
      break;
    case EventBytes::kNoInstance:
      Fail("event_missing", e,
           "the store has no instance row for instance " + std::to_string(e.instance.value) +
               " although the audit log records this event");
      return false;
    case EventBytes::kNoEvent:
      Fail("event_missing", e,
           "the store holds no event (instance " + std::to_string(e.instance.value) +
               ", version " + std::to_string(e.version) +
               ") although the audit log records it: the event was deleted");
      return false;
    case EventBytes::kDiffer:
      Fail("event_mismatch", e,
           "the stored event (instance " + std::to_string(e.instance.value) + ", version " +
               std::to_string(e.version) +
               ") no longer matches its audit leaf: the event, its instance's "
               "definition hash or the leaf was changed after it was logged");
      return false;
    case EventBytes::kMisnamed:
      Fail("event_mismatch", e,
           "the event stored as (instance " + std::to_string(e.instance.value) +
               ", version " + std::to_string(e.version) +
               ") is another instance's or version's event: rows were moved");
      return false;
  }
  ++report_.events_checked;
  return true;
}

Status Verifier::CheckCountedEvents() {
  if (counted_events_ <= report_.events_checked) return Ok();
  // More events than leaves recording them. Name one: re-derive the logged
  // instances' events the slow way.
  last_versions_.ForEach(
      [&](int64_t id, int64_t last) { instances_[id].last_version = last; });
  std::vector<int64_t> ids;
  ids.reserve(instances_.size());
  for (const auto& [id, track] : instances_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (int64_t id : ids) {
    InstanceTrack& track = instances_[id];
    auto events = store_.LoadEvents(InstanceId{id});
    if (!events) {
      if (events.error().code == ErrorCode::kInternal) {
        track.corrupt_version = std::max<int64_t>(CorruptVersionOf(events.error().message),
                                                  track.last_version + 1);
        track.corrupt_message = events.error().message;
        continue;
      }
      if (events.error().code == ErrorCode::kNotFound) continue;
      return std::unexpected(events.error());
    }
    if (static_cast<int64_t>(events->size()) <= track.last_version) continue;
    auto row = store_.GetInstance(InstanceId{id});
    if (!row) return std::unexpected(row.error());
    track.loaded = true;
    track.expected.clear();
    for (const Event& ev : *events) {
      track.expected.push_back(LeafHash(EventLeafData(ev, row->def_hash)));
    }
  }
  if (auto s = CheckNotLogged(); !s) return s;
  if (report_.failure) return Ok();
  Fail("event_not_logged", nullptr,
       "the store holds " + std::to_string(counted_events_) + " events but the audit log's " +
           std::to_string(size_) + " leaves record only " +
           std::to_string(report_.events_checked) +
           ": events of an instance the log never mentions were added behind its back");
  report_.failure->kind = std::string(kEventLeafKind);
  return Ok();
}

bool Verifier::CheckEvent(const AuditLeafView& e, const Hash& leaf, InstanceTrack& track) {
  if (track.corrupt_version > 0) {
    if (e.version < track.corrupt_version) return true;
    Fail("event_mismatch", e,
         "the stored events of this instance cannot be read back from version " +
             std::to_string(track.corrupt_version) + " on (" + track.corrupt_message +
             ")");
    return false;
  }
  if (!track.loaded) {
    track.loaded = true;
    auto events = store_.LoadEvents(e.instance);
    if (!events && events.error().code == ErrorCode::kInternal) {
      // The store found its own rows unreadable (e.g. a byte changed so an
      // event no longer decodes, or a version missing). Name the version it
      // complains about when its leaf comes; earlier versions pass.
      track.loaded = false;
      track.corrupt_message = events.error().message;
      track.corrupt_version =
          std::max<int64_t>(CorruptVersionOf(events.error().message), 1);
      return CheckEvent(e, leaf, track);
    }
    if (!events) {
      if (events.error().code != ErrorCode::kNotFound) {
        error_ = events.error();
        return false;
      }
      Fail("event_missing", e,
           "the store has no events for instance " + std::to_string(e.instance.value) +
               " although the audit log records this one");
      return false;
    }
    auto row = store_.GetInstance(e.instance);
    if (!row) {
      if (row.error().code != ErrorCode::kNotFound) {
        error_ = row.error();
        return false;
      }
      Fail("event_missing", e,
           "the store has no instance row for instance " +
               std::to_string(e.instance.value));
      return false;
    }
    track.expected.reserve(events->size());
    for (const Event& ev : *events) {
      track.expected.push_back(LeafHash(EventLeafData(ev, row->def_hash)));
    }
  }
  if (e.version < 1 || e.version > static_cast<int64_t>(track.expected.size())) {
    Fail("event_missing", e,
         "the store holds only " + std::to_string(track.expected.size()) +
             " events for this instance: the logged event was deleted");
    return false;
  }
  if (track.expected[e.version - 1] != leaf) {
    Fail("event_mismatch", e,
         "the stored event (instance " + std::to_string(e.instance.value) + ", version " +
             std::to_string(e.version) +
             ") no longer matches its audit leaf: the event, its instance's "
             "definition hash or the leaf was changed after it was logged");
    return false;
  }
  ++report_.events_checked;
  if (e.version == static_cast<int64_t>(track.expected.size())) {
    // Every stored event of this instance is accounted for; keep only the
    // version counter. Should a later leaf of it follow (events appended
    // while we scan), its events are loaded afresh.
    std::vector<Hash>().swap(track.expected);
    track.loaded = false;
  }
  return true;
}

Status Verifier::CheckNotLogged() {
  // Instances whose stored events outnumber their logged ones. Events
  // appended after the scan began have leaves beyond size_; only events
  // with no leaf anywhere are reported.
  std::vector<int64_t> ids;
  std::vector<int64_t> corrupt;
  for (const auto& [id, track] : instances_) {
    if (track.corrupt_version > 0) corrupt.push_back(id);
    if (track.loaded &&
        static_cast<int64_t>(track.expected.size()) > track.last_version) {
      ids.push_back(id);
    }
  }
  // Damage beyond the last logged version: an unreadable event row that no
  // leaf covers.
  std::sort(corrupt.begin(), corrupt.end());
  for (int64_t id : corrupt) {
    const InstanceTrack& track = instances_[id];
    Fail("event_not_logged", nullptr,
         "instance " + std::to_string(id) + " has stored event rows from version " +
             std::to_string(track.corrupt_version) +
             " on that no audit leaf covers and that cannot be read back (" +
             track.corrupt_message + ")");
    report_.failure->kind = std::string(kEventLeafKind);
    report_.failure->instance = InstanceId{id};
    report_.failure->version = track.corrupt_version;
    return Ok();
  }
  std::sort(ids.begin(), ids.end());
  for (int64_t id : ids) {
    const InstanceTrack& track = instances_[id];
    for (int64_t v = track.last_version + 1;
         v <= static_cast<int64_t>(track.expected.size()); ++v) {
      AuditQuery q;
      q.instance = InstanceId{id};
      q.after_index = size_ - 1;
      q.limit = 1000;
      auto later = store_.QueryAudit(q);
      if (!later) return std::unexpected(later.error());
      bool found = false;
      for (const AuditEntry& e : *later) {
        if (e.kind == kEventLeafKind && e.version == v &&
            e.leaf_hash == track.expected[v - 1]) {
          found = true;
        }
      }
      if (!found) {
        Fail("event_not_logged", nullptr,
             "instance " + std::to_string(id) + " has a stored event version " +
                 std::to_string(v) +
                 " that no audit leaf records: it was added behind the "
                 "log's back");
        report_.failure->kind = std::string(kEventLeafKind);
        report_.failure->instance = InstanceId{id};
        report_.failure->version = v;
        return Ok();
      }
    }
  }
  return Ok();
}

Status Verifier::CheckDefinitions() {
  auto stored = store_.ListDefinitions();
  if (!stored) return std::unexpected(stored.error());
  std::map<std::string, const StoredDefinition*, std::less<>> by_hash;
  for (const StoredDefinition& d : *stored) by_hash.emplace(d.hash, &d);
  // Report the definition whose first use comes earliest in the log.
  std::vector<std::pair<int64_t, std::string_view>> order;
  for (const auto& [hash, first] : definitions_) {
    order.emplace_back(first.entry.index, hash);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [index, hash] : order) {
    auto it = by_hash.find(hash);
    const bool missing = it == by_hash.end();
    if (!missing && Sha256Id(it->second->source) == hash) continue;
    // The first event that ran on it, named.
    auto first = Named(definitions_.find(hash)->second);
    if (!first) return std::unexpected(first.error());
    if (missing) {
      Fail("definition_missing", &*first,
           "it runs on definition " + std::string(hash) +
               ", which the store does not hold: which rules applied cannot "
               "be shown");
    } else {
      Fail("definition_mismatch", &*first,
           "the stored text of definition " + it->second->id + " version " +
               std::to_string(it->second->version) + " no longer hashes to " +
               std::string(hash) + ": the definition was changed");
    }
    return Ok();
  }
  // Every stored version, cited or not, must still be the text it was
  // stored with: a definition is evidence of which rules applied.
  for (const StoredDefinition& d : *stored) {
    std::string actual = Sha256Id(d.source);
    if (actual != d.hash) {
      Fail("definition_mismatch", nullptr,
           "the stored text of definition " + d.id + " version " +
               std::to_string(d.version) + " hashes to " + actual +
               ", not to the hash it was stored under (" + d.hash +
               "): the definition was changed after it was stored");
      return Ok();
    }
    ++report_.definitions_checked;
  }
  return Ok();
}

Result<bool> Verifier::AgreesWithStore(int64_t size, const Hash& recomputed) {
  auto stored = store_.RootAt(size);
  if (!stored) return std::unexpected(stored.error());
  return *stored == recomputed;
}

Result<AuditEntry> Verifier::Named(const FirstUse& use) {
  if (use.named) return use.entry;
  auto row = ReadEntry(use.entry.index);
  if (!row) return std::unexpected(row.error());
  AuditEntry e = use.entry;
  if (row->index == e.index) {
    e.at = row->at;
    e.type = std::move(row->type);
    e.actor = std::move(row->actor);
  }
  return e;
}

Status Verifier::NameFailure() {
  if (!unnamed_failure_) return Ok();
  const FirstUse use = std::move(*unnamed_failure_);
  unnamed_failure_.reset();
  if (!report_.failure) return Ok();
  auto named = Named(use);
  if (!named) return std::unexpected(named.error());
  report_.failure->message = Describe(*named) + ": " + use.message;
  return Ok();
}

Result<AuditEntry> Verifier::ReadEntry(int64_t index) {
  AuditEntry named;
  named.index = -1;
  Status s = store_.ScanAudit(index, [&](const AuditEntry& e) {
    named = e;
    return false;
  });
  if (!s) return std::unexpected(s.error());
  return named;
}

Result<bool> Verifier::ReportReplacedLeaf(int64_t hi, const std::string& then) {
  auto first = FirstDifferenceWithStore(hi);
  if (!first) return std::unexpected(first.error());
  // Leaves below the last matching checkpoint are authenticated by its
  // signature; a disagreement there is the store's tree being wrong, which
  // says nothing about which leaf was replaced.
  if (*first < last_good_checkpoint_) return false;
  auto named = ReadEntry(*first);
  if (!named) return std::unexpected(named.error());
  // At an odd position the first stored node to disagree may be the one over
  // this leaf and the one before it. A store whose tree takes its leaf level
  // from the log's own leaf hashes (the SQLite store, schema 8 on) holds no
  // second copy of either, so a rewrite of the earlier leaf with a fresh hash
  // shows first here too.
  std::string pair;
  if (*first % 2 == 1 && *first - 1 >= last_good_checkpoint_) {
    pair = " (or at position " + std::to_string(*first - 1) +
           ": the store's node over leaves " + std::to_string(*first - 1) + ".." +
           std::to_string(*first) +
           " is the first to disagree, and a store that takes leaf hashes "
           "from the log itself cannot tell which of the two changed)";
  }
  report_.failure.reset();
  Fail("leaf_replaced", named->index == *first ? &*named : nullptr,
       "this is not the leaf that was logged at position " + std::to_string(*first) +
           pair +
           ": the tree the store recorded at append time disagrees from "
           "here on (rows were swapped, replaced, or rewritten together "
           "with a fresh hash)" +
           (then.empty() ? "" : "; " + then));
  report_.failure->index = *first;
  return true;
}

Status Verifier::OnRootMismatch(int64_t size, const std::string& code,
                                const std::string& what) {
  if (code == "checkpoint_mismatch") {
    auto named =
        ReportReplacedLeaf(size, "so " + what + " does not match the recomputed root");
    if (!named) return std::unexpected(named.error());
    if (*named) return Ok();
    // The store's tree agrees with the altered leaves: leaves and nodes were
    // rewritten together, and only the signed checkpoint shows it.
    Fail(code, nullptr,
         what +
             " does not match the root recomputed from the leaves, and "
             "the store's tree was rewritten to match them: some leaf in " +
             std::to_string(last_good_checkpoint_) + ".." + std::to_string(size - 1) +
             " was altered after it was signed");
    report_.failure->index = -1;
    return Ok();
  }
  // tree_mismatch: every checkpoint matched the leaves, but the nodes the
  // store serves proofs from do not.
  auto first = FirstDifferenceWithStore(size);
  if (!first) return std::unexpected(first.error());
  auto named = ReadEntry(std::max<int64_t>(*first, 0));
  if (!named) return std::unexpected(named.error());
  Fail(code, named->index == *first ? &*named : nullptr,
       what + " disagree with the leaves from this leaf on: " +
           (*first < last_good_checkpoint_
                ? std::string("the leaves are covered by a valid signed "
                              "checkpoint, so the stored tree nodes were "
                              "altered and would serve wrong proofs")
                : std::string("either this leaf was replaced after the last "
                              "checkpoint or the stored tree nodes were "
                              "altered")));
  report_.failure->index = *first;
  return Ok();
}

Result<int64_t> Verifier::FirstDifferenceWithStore(int64_t hi) {
  // P(k): the recomputed root of k leaves equals the store's. P holds up to
  // the first differing leaf and fails from there on, so bisect over block
  // boundaries (recomputed roots there come from the sparse nodes), then
  // replay the one block leaf by leaf.
  auto holds_at_block = [&](int64_t j) -> Result<bool> {
    auto mine = RootAt(sparse_, j * kBlock);
    if (!mine) return std::unexpected(mine.error());
    return AgreesWithStore(j * kBlock, *mine);
  };
  int64_t good = 0;  // P(0): both are the empty root
  int64_t top = hi / kBlock;
  auto top_holds = holds_at_block(top);
  if (!top_holds) return std::unexpected(top_holds.error());
  if (*top_holds) {
    good = top;
  } else {
    int64_t bad = top;
    while (bad - good > 1) {
      int64_t mid = good + (bad - good) / 2;
      auto h = holds_at_block(mid);
      if (!h) return std::unexpected(h.error());
      (*h ? good : bad) = mid;
    }
  }
  // Replay the block after the last agreeing boundary leaf by leaf.
  int64_t start = good * kBlock;
  int64_t end = std::min(hi, start + kBlock);
  auto replay = TreeAppender::Restore(start, sparse_);
  if (!replay) return std::unexpected(replay.error());
  int64_t found = -1;
  std::optional<Error> err;
  Status s = store_.ScanAudit(start, [&](const AuditEntry& e) {
    if (e.index >= end) return false;
    replay->Append(LeafHash(e.leaf_data), &writes_);
    auto agrees = AgreesWithStore(replay->size(), replay->Root());
    if (!agrees) {
      err = agrees.error();
      return false;
    }
    if (!*agrees) {
      found = e.index;
      return false;
    }
    return true;
  });
  if (err) return std::unexpected(*err);
  if (!s) return std::unexpected(s.error());
  return found;
}

}  // namespace

std::string VerifyReport::Summary() const {
  if (ok) {
    return "ok: " + std::to_string(entries_checked) + " leaves, " +
           std::to_string(events_checked) + " events re-derived, " +
           std::to_string(checkpoints_checked) + " checkpoints, " +
           std::to_string(definitions_checked) + " definitions verified; root " +
           HashHex(root) + " at size " + std::to_string(tree_size);
  }
  if (!failure) return "FAILED";
  return "FAILED [" + failure->code + "] " + failure->message;
}

Result<VerifyReport> VerifyLog(Store& store, const LogKey& key,
                               const VerifyOptions& options) {
  Verifier v(store, key, options);
  return v.Run();
}

}  // namespace approvald::audit
