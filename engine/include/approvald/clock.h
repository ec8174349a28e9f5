// The Clock port: the only way anything outside engine/core learns the time.
// engine/core never reads a clock; `now` is passed in.
#ifndef APPROVALD_CLOCK_H_
#define APPROVALD_CLOCK_H_

#include "approvald/types.h"

namespace approvald {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// Reads the system clock (UTC).
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
};

// A clock tests set by hand. Not thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp t) : now_(t) {}
  Timestamp Now() const override { return now_; }
  void Set(Timestamp t) { now_ = t; }
  void Advance(int64_t ms) { now_.ms += ms; }

 private:
  Timestamp now_;
};

}  // namespace approvald

#endif  // APPROVALD_CLOCK_H_
