#pragma once
// Class indices that only the device reads (cross-entropy targets, confusion labels) are checked by the kernels
// without a read from the device in the training step: a kernel that meets an index outside [0, bound) leaves it out
// and writes the first such index into its device's failure record (page-locked host memory the device writes
// directly), and the next copy from that device to the host, or synchronize(), throws it as a kiln::Error
// (runtime.cu). The earliest failure since the last report wins; the record is cleared when it is thrown.
#include <cstdint>
#include <sstream>
#include <string>

#include "kiln/shape.h"

namespace kiln::cuda {

// What a kernel checks, passed by value: the message's parts and the indices' shape (for the position).
struct IndexCheck {
  const char* op = "";    // "cross_entropy"
  const char* what = "";  // "target": the message says "target 7 at [1, 0] of targets [2, 3]"
  std::int64_t sizes[Shape::max_rank] = {};
  std::int32_t rank = 0;
  std::int32_t bound = 0;    // valid indices are [0, bound)
  std::int32_t ignored = 0;  // with has_ignored, this index is skipped rather than checked
  bool has_ignored = false;
};

// The failure record: `failed` is 0 until a kernel reports an index.
struct IndexCheckFailure {
  IndexCheck check;
  std::int64_t position = 0;  // flat, into the indices
  std::int32_t value = 0;
  std::int32_t failed = 0;
};

inline IndexCheck index_check(const char* op, const char* what, const Shape& shape, std::int64_t bound) {
  IndexCheck check;
  check.op = op;
  check.what = what;
  check.rank = static_cast<std::int32_t>(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) check.sizes[d] = shape[d];
  check.bound = static_cast<std::int32_t>(bound);
  return check;
}

// "cross_entropy: target 7 at [1, 0, 1] of targets [2, 1, 2] is outside [0, 3) and is not ignore_index -100", the
// message of the CPU check and of a device's report alike.
inline std::string index_check_message(const IndexCheck& check, std::int64_t position, std::int32_t value) {
  Shape shape, index;
  for (std::int32_t d = 0; d < check.rank; ++d) shape.push_back(check.sizes[d]);
  index.resize(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = position % shape[d];
    position /= shape[d];
  }
  std::ostringstream message;
  message << check.op << ": " << check.what << " " << value << " at " << shape_str(index) << " of " << check.what
          << "s " << shape_str(shape) << " is outside [0, " << check.bound << ")";
  if (check.has_ignored) message << " and is not ignore_index " << check.ignored;
  return message.str();
}

// The device-accessible failure record of one CUDA device (made on first use, kept for the process).
IndexCheckFailure* index_check_record(int device_index);

}  // namespace kiln::cuda
