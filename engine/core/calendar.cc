#include "core/calendar.h"

namespace approvald {

bool Calendar::IsWorkingDay(Date d) const {
  if (workdays_.count(d.days)) return true;
  if (holidays_.count(d.days)) return false;
  return Weekday(d) < 5;
}

Date Calendar::AddWorkingDays(Date d, int n) const {
  // Bounded: even a calendar declaring every day a holiday cannot loop forever.
  for (int guard = 0; n > 0 && guard < 3660; ++guard) {
    d.days += 1;
    if (IsWorkingDay(d)) --n;
  }
  return d;
}

Timestamp Calendar::AddWorkingDays(Timestamp t, int n) const {
  Date start = ShanghaiDateOf(t);
  Date end = AddWorkingDays(start, n);
  return Timestamp{t.ms + int64_t(end.days - start.days) * kMsPerDay};
}

}  // namespace approvald
