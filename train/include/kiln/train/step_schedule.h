#pragma once
// A value that changes at given optimiser steps, written "V0,V1@S1,V2@S2,...": V0 from step 0, V1 from step S1 on,
// and so on (RoomNet's batch sizes 8,32@20000,40@60000,45@100000 and dropout 0,0.3@20000).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln::train {

// What a schedule's values may be: any number (a dropout rate) or whole numbers only (a batch size).
enum class ScheduleValues { real, integer };

class StepSchedule {
 public:
  // Throws kiln::Error starting "<name>: " (a setting or a flag) when the text is malformed, a step is not larger
  // than the one before, a value lies outside [min, max], or an integer schedule has a fractional value.
  static StepSchedule parse(const std::string& text, const std::string& name, double min, double max,
                            ScheduleValues values = ScheduleValues::real);

  double at(std::int64_t step) const;  // the value in force at `step`

 private:
  std::vector<std::pair<std::int64_t, double>> points_;  // (first step, value), steps increasing, the first 0
};

}  // namespace kiln::train
