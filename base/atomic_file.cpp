#include "kiln/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kiln/error.h"

namespace kiln {

AtomicFile::AtomicFile(std::string destination, std::string what)
    : destination_(std::move(destination)),
      temporary_(destination_ + ".tmp-" + std::to_string(::getpid())),
      what_(std::move(what)) {
  descriptor_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (descriptor_ < 0) fail_io("cannot create");
}

AtomicFile::~AtomicFile() {
  if (descriptor_ >= 0) ::close(descriptor_);
  if (!committed_) ::unlink(temporary_.c_str());
}

void AtomicFile::write(const void* data, std::size_t bytes) {
  const char* cursor = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t written = ::write(descriptor_, cursor, bytes);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) fail_io("cannot write");
    cursor += written;
    bytes -= static_cast<std::size_t>(written);
  }
}

void AtomicFile::commit() {
  if (::fsync(descriptor_) != 0) fail_io("cannot flush");
  const int descriptor = descriptor_;
  descriptor_ = -1;
  if (::close(descriptor) != 0) fail_io("cannot close");
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    fail(what_, ": cannot rename '", temporary_, "' to '", destination_, "': ", std::strerror(errno));
  }
  committed_ = true;
}

void AtomicFile::fail_io(const char* action) const {
  fail(what_, ": ", action, " '", temporary_, "': ", std::strerror(errno));
}

void write_file_atomically(const std::string& path, std::string_view text, const std::string& what) {
  AtomicFile file(path, what);
  file.write(text);
  file.commit();
}

}  // namespace kiln
