#pragma once
// Writing a file so that readers see either the old file or the whole new one, never a half-written one: the bytes
// go to a temporary file beside the destination, which is flushed and renamed over it on commit(). An interrupted or
// failed write leaves the destination untouched and removes the temporary file.
#include <cstddef>
#include <string>
#include <string_view>

namespace kiln {

class AtomicFile {
 public:
  // Errors name `what` (e.g. "safetensors", "report") and the path.
  AtomicFile(std::string destination, std::string what);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t bytes);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Flushes to disk and renames the temporary file over the destination.
  void commit();

 private:
  [[noreturn]] void fail_io(const char* action) const;

  std::string destination_, temporary_, what_;
  int descriptor_ = -1;
  bool committed_ = false;
};

// Writes `text` to `path` atomically.
void write_file_atomically(const std::string& path, std::string_view text, const std::string& what);

}  // namespace kiln
