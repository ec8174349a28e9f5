#include <chrono>

#include "approvald/clock.h"

namespace approvald {

Timestamp SystemClock::Now() const {
  using namespace std::chrono;
  return Timestamp{
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}

}  // namespace approvald
