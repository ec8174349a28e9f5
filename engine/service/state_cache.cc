#include "service/state_cache.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <variant>

namespace approvald {
namespace {

// A red-black tree node's header (colour, parent, left, right).
constexpr size_t kMapNode = 32;

size_t Bytes(const std::string& s) {
  // Short strings live inside the object (libstdc++ keeps up to 15 chars).
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}
size_t Bytes(const PersonId& p) { return Bytes(p.value); }

size_t Bytes(const Value& v);
size_t Bytes(const Signer& s);
size_t Bytes(const Act& a);
size_t Bytes(const std::pair<PersonId, std::string>& p);

size_t Bytes(const Value::Record& r) {
  size_t n = 0;
  for (const auto& [k, e] : r) n += kMapNode + sizeof(std::string) + sizeof(Value) + Bytes(k) + Bytes(e);
  return n;
}

size_t Bytes(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v.v)) return Bytes(*s);
  if (const auto* l = std::get_if<Value::List>(&v.v)) {
    size_t n = l->capacity() * sizeof(Value);
    for (const auto& e : *l) n += Bytes(e);
    return n;
  }
  if (const auto* r = std::get_if<Value::Record>(&v.v)) return Bytes(*r);
  return 0;
}

template <class T>
size_t VectorBytes(const std::vector<T>& xs) {
  size_t n = xs.capacity() * sizeof(T);
  for (const auto& x : xs) n += Bytes(x);
  return n;
}

size_t Bytes(const Signer& s) {
  return Bytes(s.person) + Bytes(s.added_by) + Bytes(s.added_how) + Bytes(s.delegate) +
         Bytes(s.acted_by) + Bytes(s.comment);
}

size_t Bytes(const std::pair<PersonId, std::string>& p) {
  return Bytes(p.first) + Bytes(p.second);
}

size_t Bytes(const MeetingState& m) {
  size_t n = VectorBytes(m.members) + Bytes(m.head) + VectorBytes(m.secretaries) +
             VectorBytes(m.receipts) + VectorBytes(m.present) + VectorBytes(m.opinions) +
             VectorBytes(m.votes);
  for (const auto& [p, reason] : m.recused)
    n += kMapNode + 2 * sizeof(std::string) + Bytes(p) + Bytes(reason);
  return n;
}

// A value held by CopyOnWrite: its block (the T and the shared_ptr's count,
// one allocation) and what the T holds, counted in full even when another
// version of the state shares it.
template <class T>
size_t SharedBytes(const CopyOnWrite<T>& v) {
  if (!v.holds()) return 0;
  return 16 + sizeof(T) + Bytes(v.get());
}

size_t Bytes(const Token& t) {
  return Bytes(t.node) + VectorBytes(t.signers) + Bytes(t.parallel) + SharedBytes(t.meeting) +
         Bytes(t.results);
}

size_t Bytes(const Act& a) {
  return Bytes(a.person) + Bytes(a.actor) + Bytes(a.node) + Bytes(a.action);
}

size_t Bytes(const InstanceState& st) {
  size_t n = Bytes(st.workflow) + Bytes(st.def_hash) + Bytes(st.end_node) +
             Bytes(st.submitter) + Bytes(st.submitted_by) + SharedBytes(st.form) +
             VectorBytes(st.completed) + VectorBytes(st.acts) + VectorBytes(st.cc) +
             st.cc_at.capacity() * sizeof(Timestamp);
  for (const auto& [id, t] : st.active)
    n += kMapNode + sizeof(std::string) + sizeof(Token) + Bytes(id) + Bytes(t);
  for (const auto& [id, p] : st.parallels)
    n += kMapNode + sizeof(std::string) + sizeof(ParallelState) + Bytes(id) +
         p.done.capacity() / 8;
  if (st.last_completion)
    n += Bytes(st.last_completion->node) + Bytes(st.last_completion->person) +
         (st.last_completion->token.holds() ? 16 + sizeof(Token) : 0) +
         Bytes(st.last_completion->token.get());
  return n;
}

size_t Bytes(const InstanceRow& r) {
  return Bytes(r.workflow) + Bytes(r.def_hash) + Bytes(r.status) + Bytes(r.submitter) +
         Bytes(r.title) + Bytes(r.current_nodes);
}

}  // namespace

size_t ApproxBytes(const CachedInstance& entry) {
  // The entry and its shared_ptr control block, one LRU list node, one
  // index node.
  constexpr size_t kOverhead = sizeof(CachedInstance) + 16 + 3 * sizeof(void*) + 4 * sizeof(void*);
  return kOverhead + Bytes(entry.state) + Bytes(entry.row);
}

std::optional<std::vector<AvailableAction>> ViewerActionsMemo::Find(
    const PersonId& viewer, const std::shared_ptr<const Org>& org, Timestamp now) const {
  if (!org) return std::nullopt;
  std::shared_ptr<const Answers> answers = answers_.load(std::memory_order_acquire);
  if (!answers) return std::nullopt;
  for (size_t i = 0; i < answers->size; ++i) {
    const Answer* a = &answers->list[i];
    if (a->viewer != viewer) continue;
    // The same organisation object (its control block, which the weak
    // reference keeps, so no later organisation can share it).
    if (a->org.owner_before(org) || org.owner_before(a->org)) return std::nullopt;
    if (now < a->from || !(now < a->until)) return std::nullopt;
    std::vector<AvailableAction> actions;
    actions.reserve(static_cast<size_t>(std::count(a->packed.begin(), a->packed.end(), '\0')) / 2);
    std::string_view rest = a->packed;
    auto next = [&rest] {
      size_t end = rest.find('\0');
      std::string_view part = rest.substr(0, end);
      rest.remove_prefix(end + 1);
      return std::string(part);
    };
    while (!rest.empty()) {
      AvailableAction& x = actions.emplace_back();
      x.action = next();
      x.node = next();
    }
    return actions;
  }
  return std::nullopt;
}

void ViewerActionsMemo::Put(const PersonId& viewer, const std::shared_ptr<const Org>& org,
                            Timestamp decided_at, Timestamp valid_until,
                            const std::vector<AvailableAction>& actions) const {
  if (!org || !(decided_at < valid_until)) return;
  size_t bytes = 0;
  for (const auto& a : actions) {
    // Ids and action names hold no NUL; an answer that did could not be
    // unpacked, so it is not remembered.
    if (a.action.find('\0') != std::string::npos || a.node.find('\0') != std::string::npos)
      return;
    bytes += a.action.size() + a.node.size() + 2;
  }
  auto answers = std::make_shared<Answers>();
  Answer& first = answers->list[answers->size++];
  first = Answer{viewer, org, decided_at, valid_until, {}};
  first.packed.reserve(bytes);
  for (const auto& a : actions) {
    first.packed.append(a.action).push_back('\0');
    first.packed.append(a.node).push_back('\0');
  }
  if (auto old = answers_.load(std::memory_order_acquire)) {
    for (size_t i = 0; i < old->size && answers->size < kViewers; ++i)
      if (old->list[i].viewer != viewer) answers->list[answers->size++] = old->list[i];
  }
  answers_.store(std::move(answers), std::memory_order_release);
}

StateCache::StateCache(size_t capacity, size_t shards, size_t max_bytes)
    : per_shard_(capacity == 0 ? 0 : (capacity + shards - 1) / shards),
      bytes_per_shard_(max_bytes == 0 ? 0 : std::max<size_t>(1, max_bytes / shards)),
      shards_(shards) {}

std::shared_ptr<const CachedInstance> StateCache::Find(InstanceId id) {
  if (per_shard_ == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Shard& s = ShardOf(id);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(id.value);
  if (it == s.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->entry;
}

void StateCache::Put(std::shared_ptr<const CachedInstance> entry, Admit admit) {
  if (per_shard_ == 0 || !entry) return;
  InstanceId id = entry->state.id;
  size_t bytes = bytes_per_shard_ ? ApproxBytes(*entry) : 0;  // outside the lock
  Shard& s = ShardOf(id);
  std::vector<std::shared_ptr<const CachedInstance>> evicted;  // destroyed outside the lock
  std::lock_guard lock(s.mu);
  auto it = s.index.find(id.value);
  if (it != s.index.end()) {
    if (it->second->entry->state.version >= entry->state.version) return;
    // Replaced below, as if new.
    s.bytes -= it->second->bytes;
    evicted.push_back(std::move(it->second->entry));
    s.lru.erase(it->second);
    s.index.erase(it);
  } else if (admit != Admit::kEvicting && !HasRoom(s, bytes)) {
    if (admit == Admit::kIfRoom) return;
    // kOnSecondMiss: refused once, admitted when it comes back.
    if (s.refused.erase(id.value) == 0) {
      s.refused.insert(id.value);
      s.refused_order.push_back(id.value);
      while (s.refused_order.size() > per_shard_) {
        s.refused.erase(s.refused_order.front());
        s.refused_order.pop_front();
      }
      return;
    }
  }
  if (bytes_per_shard_ && bytes > bytes_per_shard_) return;  // would evict everything
  while (!s.lru.empty() && (s.index.size() >= per_shard_ ||
                            (bytes_per_shard_ && s.bytes + bytes > bytes_per_shard_))) {
    Shard::Slot& last = s.lru.back();
    s.bytes -= last.bytes;
    s.index.erase(last.entry->state.id.value);
    evicted.push_back(std::move(last.entry));
    s.lru.pop_back();
  }
  s.lru.push_front(Shard::Slot{std::move(entry), bytes});
  s.bytes += bytes;
  s.index.emplace(id.value, s.lru.begin());
}

void StateCache::Erase(InstanceId id) {
  if (per_shard_ == 0) return;
  Shard& s = ShardOf(id);
  std::shared_ptr<const CachedInstance> gone;
  std::lock_guard lock(s.mu);
  auto it = s.index.find(id.value);
  if (it == s.index.end()) return;
  gone = std::move(it->second->entry);
  s.bytes -= it->second->bytes;
  s.lru.erase(it->second);
  s.index.erase(it);
}

size_t StateCache::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.index.size();
  }
  return n;
}

size_t StateCache::bytes() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.bytes;
  }
  return n;
}

}  // namespace approvald
