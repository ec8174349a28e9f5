// Working-day arithmetic for deadlines and deliberation periods. The
// calendar is data (config/holidays.yaml): public holidays and the weekend
// days that are worked instead (调休). Pure.
#ifndef APPROVALD_CORE_CALENDAR_H_
#define APPROVALD_CORE_CALENDAR_H_

#include <set>

#include "approvald/types.h"

namespace approvald {

class Calendar {
 public:
  Calendar() = default;
  Calendar(std::set<int32_t> holidays, std::set<int32_t> workdays)
      : holidays_(std::move(holidays)), workdays_(std::move(workdays)) {}

  // Monday to Friday unless listed as a holiday; a weekend day listed as a
  // working day (调休) counts.
  bool IsWorkingDay(Date d) const;
  // The `n`-th working day after `d` (n >= 1); `d` itself never counts.
  Date AddWorkingDays(Date d, int n) const;
  // The instant `n` working days after `t`, at the same Shanghai time of day.
  Timestamp AddWorkingDays(Timestamp t, int n) const;

 private:
  std::set<int32_t> holidays_;  // Date::days
  std::set<int32_t> workdays_;
};

}  // namespace approvald

#endif  // APPROVALD_CORE_CALENDAR_H_
