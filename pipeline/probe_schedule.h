#pragma once
// When one workload's ready probe runs. From the workload's first sight, a probe every `fast`
// period (the sampling interval) until one succeeds: that first success is its ready time. From
// then on, one every `slow` period (the probe's interval). Never two at once: the next is due a
// period after the previous one started, or at once if that one outlasted its period.
//
// The prober calls Due() when a snapshot arrives, about once per sampling interval; so that a
// tick a few milliseconds early does not push a probe back by a whole interval, a probe is due
// from half a fast period before its time. No clock of its own: every call is given the time,
// which is what lets the tests drive it.
//
// Thread-safety: a plain value; one thread at a time.

#include <algorithm>
#include <chrono>

namespace we {

class ProbeSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  ProbeSchedule() = default;
  ProbeSchedule(Clock::time_point first_seen, Clock::duration fast, Clock::duration slow)
      : next_(first_seen), fast_(fast), slow_(slow) {}

  bool Due(Clock::time_point now) const { return !in_flight_ && now + fast_ / 2 >= next_; }
  void Started(Clock::time_point now) {
    in_flight_ = true;
    started_ = now;
  }
  // A probe ended (success, failure or deadline). Returns true when this was the first success.
  bool Finished(Clock::time_point now, bool success) {
    in_flight_ = false;
    const bool first = success && !ready_;
    ready_ = ready_ || success;
    next_ = std::max(started_ + (ready_ ? slow_ : fast_), now);
    return first;
  }
  // The probe in flight was abandoned (its workload vanished, or the daemon stops).
  void Cancelled() { in_flight_ = false; }

  bool in_flight() const { return in_flight_; }
  bool ready() const { return ready_; }
  Clock::time_point next() const { return next_; }

 private:
  Clock::time_point next_{};
  Clock::time_point started_{};
  Clock::duration fast_{std::chrono::seconds(1)};
  Clock::duration slow_{std::chrono::seconds(15)};
  bool in_flight_ = false;
  bool ready_ = false;
};

}  // namespace we
