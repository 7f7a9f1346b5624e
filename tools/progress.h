#pragma once
// The progress line of a long command: redrawn in place on a terminal, at most ten times a second, and printed as a
// line of its own every five seconds otherwise, so that logs stay short.
#include <chrono>
#include <string>

namespace kiln::tools {

// "42s", "3m05s", "1h02m", for ETAs.
std::string duration_text(double seconds);

class ProgressLine {
 public:
  ProgressLine();  // redraws when stdout is a terminal
  // Seconds between lines.
  double interval() const { return terminal_ ? 0.1 : 5.0; }
  // Whether `interval` seconds have passed since the last line (or since construction).
  bool due() const;
  void show(const std::string& line);
  // Ends a line left open by a redrawn one.
  void finish_line();

 private:
  bool terminal_;
  bool open_ = false;  // a redrawn line awaits its end
  std::chrono::steady_clock::time_point last_shown_;
};

}  // namespace kiln::tools
