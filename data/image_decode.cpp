#include <fcntl.h>
#include <stb/stb_image.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <functional>
#include <memory>
#include <new>

#include "kiln/data/image.h"
#include "kiln/data/image_bytes.h"
#include "kiln/error.h"

namespace kiln::data {

namespace detail {

// stb_image's allocation hooks (stb_image.cpp).
void* decoder_malloc(std::size_t size);
void* decoder_realloc(void* pointer, std::size_t old_size, std::size_t new_size);
void decoder_free(void* pointer);

}  // namespace detail

namespace {

#if defined(__SANITIZE_ADDRESS__)
#define KILN_DECODER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILN_DECODER_ASAN 1
#endif
#endif
#ifdef KILN_DECODER_ASAN
constexpr bool use_arena = false;  // ASan must see stb_image's blocks to find overflows in it
#else
constexpr bool use_arena = true;
#endif

constexpr std::size_t granule = alignof(std::max_align_t);

// While one is alive, stb_image's allocations on this thread are carved from a scratch block, bump-allocator style
// (freeing only takes back the latest block), and what does not fit comes from malloc. Its destructor grows the block
// to everything the decode asked for, rounded up to a power of two, so that the next image of that size and format
// fits even when its compressed data is a little larger: a steady stream of images then takes no memory from the
// system.
class DecoderArena {
 public:
  explicit DecoderArena(std::vector<std::max_align_t>& block) : block_(block), previous_(active) {
    if (use_arena) active = this;
  }
  ~DecoderArena() {
    active = previous_;
    const std::size_t granules = (asked_ + granule - 1) / granule;
    if (granules <= block_.size()) return;
    try {
      block_ = std::vector<std::max_align_t>(std::bit_ceil(granules));
    } catch (const std::bad_alloc&) {
      // Keep the old block: the next decode takes what does not fit from malloc, as this one did.
    }
  }
  DecoderArena(const DecoderArena&) = delete;
  DecoderArena& operator=(const DecoderArena&) = delete;

  void* allocate(std::size_t size) {
    const std::size_t bytes = rounded(size);
    asked_ += bytes;
    if (used_ + bytes > capacity()) return std::malloc(size);
    latest_ = used_;
    used_ += bytes;
    return base() + latest_;
  }
  void* reallocate(void* pointer, std::size_t old_size, std::size_t new_size) {
    if (pointer == nullptr) return allocate(new_size);
    if (pointer == base() + latest_ && latest_ + rounded(new_size) <= capacity()) {
      asked_ += rounded(new_size);  // counted in full: the next decode may not grow in place
      used_ = latest_ + rounded(new_size);
      return pointer;
    }
    if (!owns(pointer)) return std::realloc(pointer, new_size);
    void* moved = allocate(new_size);
    if (moved != nullptr) std::memcpy(moved, pointer, std::min(old_size, new_size));
    release(pointer);
    return moved;
  }
  void release(void* pointer) {
    if (!owns(pointer)) {
      std::free(pointer);
    } else if (pointer == base() + latest_) {
      used_ = latest_;
    }
  }

  static thread_local DecoderArena* active;

 private:
  static std::size_t rounded(std::size_t size) {
    return (std::max<std::size_t>(size, 1) + granule - 1) / granule * granule;
  }
  char* base() const { return reinterpret_cast<char*>(block_.data()); }
  std::size_t capacity() const { return block_.size() * granule; }
  bool owns(const void* pointer) const {
    const auto* byte = static_cast<const char*>(pointer);
    // std::less: a total order even over pointers into different blocks.
    return !std::less<const char*>()(byte, base()) && std::less<const char*>()(byte, base() + capacity());
  }

  std::vector<std::max_align_t>& block_;
  DecoderArena* previous_;
  std::size_t used_ = 0, latest_ = 0;
  std::size_t asked_ = 0;  // every byte asked for (never given back), enough for the same sequence of requests
};

thread_local DecoderArena* DecoderArena::active = nullptr;

struct FileDescriptor {
  int value;
  ~FileDescriptor() {
    if (value >= 0) ::close(value);
  }
};

// Reads the whole file into `bytes`, reusing its capacity (POSIX calls: a stream would allocate its buffer).
void read_file(const std::string& path, std::vector<std::uint8_t>& bytes) {
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  KILN_CHECK(file.value >= 0, path, ": cannot open (", std::strerror(errno), ")");
  struct stat status {};
  const bool regular = ::fstat(file.value, &status) == 0 && S_ISREG(status.st_mode);
  // One byte past a regular file's size, so that the read meeting its end needs no growth; capacity in powers of two,
  // so that files of similar sizes fit the same buffer.
  const std::size_t expected =
      regular ? static_cast<std::size_t>(status.st_size) + 1 : std::max<std::size_t>(bytes.capacity(), 4096);
  if (expected > bytes.capacity()) bytes.reserve(std::bit_ceil(expected));
  bytes.resize(expected);
  std::size_t size = 0;
  for (;;) {
    if (size == bytes.size()) bytes.resize(2 * size);
    const ssize_t count = ::read(file.value, bytes.data() + size, bytes.size() - size);
    if (count < 0 && errno == EINTR) continue;
    KILN_CHECK(count >= 0, path, ": read error (", std::strerror(errno), ")");
    if (count == 0) break;
    size += static_cast<std::size_t>(count);
  }
  bytes.resize(size);
}

// The byte count as stb_image takes it.
int checked_size(std::span<const std::uint8_t> bytes, const std::string& name) {
  KILN_CHECK(!bytes.empty(), name, ": empty file, not an image");
  KILN_CHECK(bytes.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max()), name, ": ", bytes.size(),
             " bytes is larger than any image kiln decodes");
  return static_cast<int>(bytes.size());
}

void decode_into(std::span<const std::uint8_t> bytes, const std::string& name, std::vector<std::max_align_t>& arena,
                 Image& image) {
  const int size = checked_size(bytes, name);
  int width = 0, height = 0, channels_in_file = 0;
  constexpr int rgb = 3;
  DecoderArena decoder_arena(arena);
  const std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes.data(), size, &width, &height, &channels_in_file, rgb), stbi_image_free);
  KILN_CHECK(decoded != nullptr, name, ": not a readable JPEG, PNG or BMP image (stb_image: ", stbi_failure_reason(),
             ")");
  image.height = height;
  image.width = width;
  const std::int64_t plane = image.height * image.width;
  image.pixels.resize(static_cast<std::size_t>(rgb * plane));
  // Interleaved RGB bytes to planes.
  for (std::int64_t pixel = 0; pixel < plane; ++pixel) {
    for (int channel = 0; channel < rgb; ++channel) {
      image.pixels[static_cast<std::size_t>(channel * plane + pixel)] =
          static_cast<float>(decoded.get()[pixel * rgb + channel]) / 255.0f;
    }
  }
}

}  // namespace

namespace detail {

void* decoder_malloc(std::size_t size) {
  return DecoderArena::active != nullptr ? DecoderArena::active->allocate(size) : std::malloc(size);
}

void* decoder_realloc(void* pointer, std::size_t old_size, std::size_t new_size) {
  return DecoderArena::active != nullptr ? DecoderArena::active->reallocate(pointer, old_size, new_size)
                                         : std::realloc(pointer, new_size);
}

void decoder_free(void* pointer) {
  if (DecoderArena::active != nullptr) {
    DecoderArena::active->release(pointer);
  } else {
    std::free(pointer);
  }
}

}  // namespace detail

void ImageScratch::release_above(std::size_t bytes) {
  const auto release = [bytes]<class Buffer>(Buffer& buffer) {
    if (buffer.capacity() * sizeof(typename Buffer::value_type) > bytes) Buffer().swap(buffer);
  };
  release(file);
  release(decoder);
  release(tap_index);
  release(tap_weight);
  release(narrowed);
  for (Image* image : {&decoded, &intermediate, &resized}) release(image->pixels);
}

Image decode_image(const std::string& path) {
  ImageScratch scratch;
  return std::move(decode_image(path, scratch));
}

Image& decode_image(const std::string& path, ImageScratch& scratch) {
  read_file(path, scratch.file);
  decode_into(scratch.file, path, scratch.decoder, scratch.decoded);
  return scratch.decoded;
}

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name) {
  std::vector<std::max_align_t> arena;
  Image image;
  decode_into(bytes, name, arena, image);
  return image;
}

ImageBytes decode_image_bytes(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  read_file(path, bytes);
  const int size = checked_size(bytes, path);
  KILN_CHECK(stbi_is_16_bit_from_memory(bytes.data(), size) == 0, path,
             ": 16-bit samples; kiln reads this kind of image only with 8-bit samples");
  int width = 0, height = 0, channels = 0;
  const std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes.data(), size, &width, &height, &channels, 0), stbi_image_free);
  KILN_CHECK(decoded != nullptr, path, ": not a readable JPEG, PNG or BMP image (stb_image: ", stbi_failure_reason(),
             ")");
  ImageBytes image{height, width, channels, {}};
  image.samples.assign(decoded.get(), decoded.get() + std::int64_t{height} * width * channels);
  return image;
}

}  // namespace kiln::data
