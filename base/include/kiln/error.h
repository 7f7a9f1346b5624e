#pragma once
// kiln::Error: the one exception type kiln throws. Messages name the op, tensor, file or flag and the problem.
#include <sstream>
#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds a message from any streamable parts and throws kiln::Error.
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}

}  // namespace kiln

// KILN_CHECK(condition, message parts...): throws kiln::Error with the parts when the condition is false.
#define KILN_CHECK(condition, ...)   \
  do {                               \
    if (!(condition)) {              \
      ::kiln::fail(__VA_ARGS__);     \
    }                                \
  } while (0)
