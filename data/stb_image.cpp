// stb_image's implementation, compiled once and limited to the formats kiln reads. kiln reads files itself, so
// stb's stdio entry points are left out. A header may not declare more than 16384 pixels per side: a larger value
// is far more likely a corrupt file than a photo, and would make the decoder allocate gigabytes. Its memory comes
// from image_decode.cpp's hooks, which reuse an ImageScratch's block from image to image.
#include <cstddef>

namespace kiln::data::detail {

void* decoder_malloc(std::size_t size);
void* decoder_realloc(void* pointer, std::size_t old_size, std::size_t new_size);
void decoder_free(void* pointer);

}  // namespace kiln::data::detail

#define STBI_MALLOC(size) ::kiln::data::detail::decoder_malloc(size)
#define STBI_REALLOC_SIZED(pointer, old_size, new_size) \
  ::kiln::data::detail::decoder_realloc(pointer, old_size, new_size)
#define STBI_FREE(pointer) ::kiln::data::detail::decoder_free(pointer)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 16384
#include <stb/stb_image.h>
