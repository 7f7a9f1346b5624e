#include "kiln/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "kiln/atomic_file.h"

namespace kiln {

// The data section is copied byte for byte, so the host must share the format's byte order.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's order, which is the order tensors are listed in

constexpr std::uint64_t max_header_bytes = 100'000'000;
constexpr const char* metadata_key = "__metadata__";

std::string dtype_code(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i32: return "I32";
  }
  fail("safetensors: unhandled dtype");
}

std::optional<DType> kiln_dtype(const std::string& code) {
  if (code == "F32") return DType::f32;
  if (code == "F64") return DType::f64;
  if (code == "I32") return DType::i32;
  return std::nullopt;
}

// Element sizes of every dtype the safetensors format defines; kiln loads only F32, F64 and I32 and skips the rest.
std::optional<std::uint64_t> format_element_size(const std::string& code) {
  static const std::map<std::string, std::uint64_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
  const auto found = sizes.find(code);
  if (found == sizes.end()) return std::nullopt;
  return found->second;
}

std::uint64_t read_u64_le(const unsigned char* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

struct TensorEntry {
  std::string name;
  std::optional<DType> dtype;  // empty: a format dtype kiln skips
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

// Parses and checks one tensor's header entry against a data section of `data_bytes` bytes.
template <class Fail>
TensorEntry parse_entry(const std::string& name, const Json& entry, std::uint64_t data_bytes, const Fail& reject) {
  if (!entry.is_object()) reject("tensor '", name, "': entry is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) reject("tensor '", name, "': missing \"", key, "\"");
  }
  const Json& dtype = entry.at("dtype");
  const Json& shape = entry.at("shape");
  const Json& offsets = entry.at("data_offsets");
  if (!dtype.is_string()) reject("tensor '", name, "': \"dtype\" is not a string");
  const std::string code = dtype.get<std::string>();
  const std::optional<std::uint64_t> element_size = format_element_size(code);
  if (!element_size) reject("tensor '", name, "': unknown dtype \"", code, "\"");

  TensorEntry parsed{name, kiln_dtype(code), {}, 0, 0};
  if (!shape.is_array()) reject("tensor '", name, "': \"shape\" is not an array");
  if (shape.size() > Shape::max_rank) {
    reject("tensor '", name, "': shape ", shape.dump(), " has ", shape.size(), " dimensions; kiln's tensors have at most ",
           Shape::max_rank);
  }
  // The byte count is accumulated with overflow checks; dims themselves must fit kiln's signed sizes.
  std::uint64_t expected_bytes = *element_size;
  bool overflow = false;
  for (const Json& size : shape) {
    if (!size.is_number_unsigned()) {
      reject("tensor '", name, "': shape ", shape.dump(), " holds a non-integer or negative size");
    }
    const std::uint64_t dim = size.get<std::uint64_t>();
    if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      reject("tensor '", name, "': shape ", shape.dump(), " has a size too large");
    }
    parsed.shape.push_back(static_cast<std::int64_t>(dim));
    if (dim != 0 && expected_bytes > std::numeric_limits<std::uint64_t>::max() / dim) overflow = true;
    else expected_bytes *= dim;
  }
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    reject("tensor '", name, "': \"data_offsets\" must be two non-negative integers, got ", offsets.dump());
  }
  parsed.begin = offsets[0].get<std::uint64_t>();
  parsed.end = offsets[1].get<std::uint64_t>();
  if (parsed.begin > parsed.end || parsed.end > data_bytes) {
    reject("tensor '", name, "': data_offsets [", parsed.begin, ", ", parsed.end, "] out of range of the ", data_bytes,
           "-byte data section");
  }
  if (overflow || parsed.end - parsed.begin != expected_bytes) {
    reject("tensor '", name, "': data_offsets [", parsed.begin, ", ", parsed.end, "] hold ",
           parsed.end - parsed.begin, " bytes, but ", code, " ", shape.dump(), " needs ",
           overflow ? "more than 2^64" : std::to_string(expected_bytes));
  }
  return parsed;
}

// The tensors must tile the data section exactly: no overlaps and no holes (as the format requires).
template <class Fail>
void check_tiling(std::vector<TensorEntry> entries, std::uint64_t data_bytes, const Fail& reject) {
  std::sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  std::string previous = "the start of the data section";
  for (const TensorEntry& entry : entries) {
    if (entry.begin < covered) reject("tensor '", entry.name, "' overlaps ", previous);
    if (entry.begin > covered) {
      reject("unused bytes [", covered, ", ", entry.begin, ") before tensor '", entry.name, "'");
    }
    covered = entry.end;
    previous = "tensor '" + entry.name + "'";
  }
  if (covered != data_bytes) reject("unused bytes [", covered, ", ", data_bytes, ") at the end of the data section");
}

}  // namespace

const Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& [tensor_name, tensor] : tensors) {
    if (tensor_name == name) return tensor;
  }
  fail("safetensors: no tensor named '", name, "' (the file holds ", tensors.size(), " tensors)");
}

bool SafetensorsFile::contains(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& entry) { return entry.first == name; });
}

SafetensorsFile load_safetensors(const std::string& path) {
  const auto reject = [&path](const auto&... parts) { fail("safetensors: '", path, "': ", parts...); };
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) reject("cannot open the file: ", std::strerror(errno));
  const std::streamoff end_position = file.tellg();
  if (end_position < 0) reject("cannot determine the file size");
  const auto file_bytes = static_cast<std::uint64_t>(end_position);
  if (file_bytes < 8) reject("file is ", file_bytes, " bytes, shorter than the 8-byte header length");

  unsigned char length_bytes[8];
  file.seekg(0);
  file.read(reinterpret_cast<char*>(length_bytes), 8);
  const std::uint64_t header_bytes = read_u64_le(length_bytes);
  if (header_bytes > max_header_bytes) reject("header length ", header_bytes, " exceeds the 100 MB limit");
  if (header_bytes > file_bytes - 8) {
    reject("header length ", header_bytes, " exceeds the ", file_bytes - 8, " bytes after the length field");
  }
  std::string header_text(static_cast<std::size_t>(header_bytes), '\0');
  if (!file.read(header_text.data(), static_cast<std::streamsize>(header_bytes))) reject("cannot read the header");

  const Json header = Json::parse(header_text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) reject("the header is not valid JSON");
  if (!header.is_object()) reject("the header is not a JSON object");

  const std::uint64_t data_start = 8 + header_bytes;
  const std::uint64_t data_bytes = file_bytes - data_start;
  SafetensorsFile result;
  std::vector<TensorEntry> entries;
  for (const auto& [name, entry] : header.items()) {
    if (name == metadata_key) {
      if (!entry.is_object()) reject("\"__metadata__\" is not a JSON object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) reject("metadata '", key, "' is not a string");
        result.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(name, entry, data_bytes, reject));
  }
  check_tiling(entries, data_bytes, reject);

  for (const TensorEntry& entry : entries) {
    if (!entry.dtype) {
      result.skipped.push_back(entry.name);
      continue;
    }
    Tensor tensor = Tensor::empty(entry.shape, *entry.dtype);
    file.seekg(static_cast<std::streamoff>(data_start + entry.begin));
    if (!file.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(tensor.nbytes()))) {
      reject("cannot read the data of tensor '", entry.name, "'");
    }
    result.tensors.emplace_back(entry.name, std::move(tensor));
  }
  return result;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header[metadata_key] = metadata;
  std::vector<Tensor> host_tensors;
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    KILN_CHECK(!name.empty() && name != metadata_key, "safetensors: cannot save '", path, "': invalid tensor name '",
               name, "'");
    KILN_CHECK(names.insert(name).second, "safetensors: cannot save '", path, "': tensor name '", name,
               "' appears twice");
    KILN_CHECK(tensor.defined(), "safetensors: cannot save '", path, "': tensor '", name, "' is undefined");
    host_tensors.push_back(tensor.cpu());
    const std::uint64_t end = offset + tensor.nbytes();
    header[name] = Json{{"dtype", dtype_code(tensor.dtype())},
                        {"shape", tensor.shape()},
                        {"data_offsets", Json::array({offset, end})}};
    offset = end;
  }
  std::string header_text = header.dump();
  // Padding with spaces (valid JSON whitespace) keeps the data section 8-byte aligned, as other writers do.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  unsigned char length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>(header_text.size() >> (8 * i));

  AtomicFile file(path, "safetensors");
  file.write(length_bytes, 8);
  file.write(header_text);
  for (const Tensor& tensor : host_tensors) file.write(tensor.raw_data(), tensor.nbytes());
  file.commit();
}

}  // namespace kiln
