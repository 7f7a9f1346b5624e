// stb_image's implementation, compiled once and limited to the formats kiln reads. kiln reads files itself, so
// stb's stdio entry points are left out. A header may not declare more than 16384 pixels per side: a larger value
// is far more likely a corrupt file than a photo, and would make the decoder allocate gigabytes.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 16384
#include <stb/stb_image.h>
