#include "kiln/train/step_schedule.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "kiln/error.h"

namespace kiln::train {

namespace {

template <class Number>
Number parse_number(const std::string& text, const std::string& name, const std::string& whole) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  KILN_CHECK(error == std::errc() && end == text.data() + text.size() && !text.empty(), name, ": '", text,
             "' is not a number in '", whole, "' (expected V0,V1@STEP1,V2@STEP2,...)");
  return value;
}

}  // namespace

StepSchedule StepSchedule::parse(const std::string& text, const std::string& name, double min, double max,
                                 ScheduleValues values) {
  StepSchedule schedule;
  std::stringstream entries(text);
  for (std::string entry; std::getline(entries, entry, ',');) {
    const auto at = entry.find('@');
    const bool first = schedule.points_.empty();
    KILN_CHECK(first == (at == std::string::npos), name, ": '", entry, "' in '", text, "': ",
               first ? "the first value applies from step 0 and takes no @STEP" : "a later value needs @STEP");
    const double value = parse_number<double>(entry.substr(0, at), name, text);
    const std::int64_t step = first ? 0 : parse_number<std::int64_t>(entry.substr(at + 1), name, text);
    KILN_CHECK(value >= min && value <= max, name, ": value ", value, " in '", text, "' is outside [", min, ", ",
               max, "]");
    KILN_CHECK(values == ScheduleValues::real || value == std::floor(value), name, ": value ", value, " in '", text,
               "' is not a whole number");
    KILN_CHECK(first || step > schedule.points_.back().first, name, ": steps must increase in '", text, "'");
    schedule.points_.emplace_back(step, value);
  }
  KILN_CHECK(!schedule.points_.empty(), name, ": an empty schedule");
  return schedule;
}

double StepSchedule::at(std::int64_t step) const {
  double value = points_.front().second;
  for (const auto& [from, later] : points_) {
    if (step >= from) value = later;
  }
  return value;
}

}  // namespace kiln::train
