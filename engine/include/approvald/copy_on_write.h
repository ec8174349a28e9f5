// CopyOnWrite<T>: a value that copies of its holder share until one of them
// changes it.
//
// Copying a CopyOnWrite copies a reference (one atomic count), not the T.
// Reads go through get(), operator-> or the implicit conversion to const T&.
// Mutable() returns the T to change, first copying it if another holder
// shares it, so a change never shows through any other copy: each holder
// behaves exactly as if it held its own T. A default-constructed one reads as
// T{} and allocates nothing until it is changed.
//
// Instance states (approvald/instance.h) hold the parts that most decisions
// never change this way (the submitted form, a meeting's record), so that the
// copies the engine makes of a state to decide on it (Decide, the trials of
// AvailableActions) and the versions it keeps cached share them instead of
// copying them.
//
// Thread safety as std::shared_ptr: holders on different threads that share
// one T may read, copy and destroy it concurrently; one holder is not
// changed while another thread reads or copies that same holder.
#ifndef APPROVALD_COPY_ON_WRITE_H_
#define APPROVALD_COPY_ON_WRITE_H_

#include <atomic>
#include <memory>
#include <utility>

namespace approvald {

template <class T>
class CopyOnWrite {
 public:
  CopyOnWrite() = default;
  // Holds `value` (implicit, so a T is assigned as before: `cow = t;`).
  CopyOnWrite(T value) : p_(std::make_shared<T>(std::move(value))) {}  // NOLINT
  CopyOnWrite& operator=(T value) {
    if (Owned())
      *p_ = std::move(value);  // not shared: reuse the block
    else
      p_ = std::make_shared<T>(std::move(value));
    return *this;
  }

  const T& get() const { return p_ ? *p_ : Empty(); }
  operator const T&() const { return get(); }  // NOLINT: reads as the T it holds
  const T* operator->() const { return &get(); }

  // The T to change, this holder's own: copied first if it is shared.
  T& Mutable() {
    if (!p_)
      p_ = std::make_shared<T>();
    else if (!Owned())
      p_ = std::make_shared<T>(*p_);
    return *p_;
  }

  // False while default-constructed (reading as T{} and holding no block).
  bool holds() const { return p_ != nullptr; }
  // True if both hold the very same T (not a copy of it): for tests.
  bool SharesWith(const CopyOnWrite& other) const { return p_ && p_ == other.p_; }

  // Container-like reads, for a T that is a container (the form).
  auto begin() const { return get().begin(); }
  auto end() const { return get().end(); }
  template <class K>
  auto find(const K& key) const { return get().find(key); }
  template <class K>
  const auto& at(const K& key) const { return get().at(key); }
  template <class K>
  auto count(const K& key) const { return get().count(key); }
  auto size() const { return get().size(); }
  bool empty() const { return get().empty(); }

  // Equal values compare equal whether or not they are shared.
  friend bool operator==(const CopyOnWrite& a, const CopyOnWrite& b) {
    return a.p_ == b.p_ || a.get() == b.get();
  }

 private:
  // True if this holder is the only one: nobody else can start sharing it
  // (that takes a copy of this holder), so it may be changed in place. The
  // count is read relaxed; the fence orders this thread's writes after the
  // reads of any holder that let go of it meanwhile on another thread (its
  // release of the count), as the last owner's delete would be.
  bool Owned() const {
    if (!p_ || p_.use_count() != 1) return false;
    std::atomic_thread_fence(std::memory_order_acquire);
    return true;
  }

  static const T& Empty() {
    static const T empty{};
    return empty;
  }

  std::shared_ptr<T> p_;  // null: T{}
};

}  // namespace approvald

#endif  // APPROVALD_COPY_ON_WRITE_H_
