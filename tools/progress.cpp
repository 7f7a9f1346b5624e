#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace kiln::tools {

std::string duration_text(double seconds) {
  const auto whole = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (whole >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", whole / 3600, whole / 60 % 60);
  } else if (whole >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", whole / 60, whole % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", whole);
  }
  return text;
}

ProgressLine::ProgressLine()
    : terminal_(::isatty(STDOUT_FILENO) == 1), last_shown_(std::chrono::steady_clock::now()) {}

bool ProgressLine::due() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - last_shown_).count() >= interval();
}

void ProgressLine::show(const std::string& line) {
  std::cout << (terminal_ ? "\r\033[K" : "") << line << (terminal_ ? "" : "\n") << std::flush;
  last_shown_ = std::chrono::steady_clock::now();
  open_ = terminal_;
}

void ProgressLine::finish_line() {
  if (open_) std::cout << "\n";
  open_ = false;
}

}  // namespace kiln::tools
