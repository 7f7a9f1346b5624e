#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "kiln/kiln.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// A fresh, empty folder per test (named by process id, so parallel test runs do not collide).
fs::path scratch_folder(const std::string& test) {
  const fs::path folder = fs::temp_directory_path() / ("kiln_safetensors_" + std::to_string(::getpid()) + "_" + test);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string length_prefix(std::uint64_t length) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>(length >> (8 * i));
  return bytes;
}

// A file as the spec lays it out: length, header, data.
std::string safetensors_bytes(const std::string& header, const std::string& data) {
  return length_prefix(header.size()) + header + data;
}

template <class T>
std::string raw(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

}  // namespace

TEST_CASE("safetensors: round trip is bit-exact for every dtype, scalars and metadata", "[safetensors]") {
  const fs::path folder = scratch_folder("round_trip");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float denormal = std::numeric_limits<float>::denorm_min();
  const std::vector<std::pair<std::string, Tensor>> tensors = {
      {"conv.weight", Tensor::from_vector(std::vector<float>{1.5f, -0.0f, nan, denormal, 3e38f, -7.25f}, {1, 2, 3})},
      {"head.f64", Tensor::from_vector(std::vector<double>{0.1, -1e-300, 12345.678901234567}, {3})},
      {"labels", Tensor::from_vector(std::vector<std::int32_t>{-2147483647 - 1, 0, 7, 2147483647}, {2, 2})},
      {"scalar", Tensor::scalar(2.5, DType::f64)},
      {"empty", Tensor::zeros({0, 3})},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"epoch", "12"}};
  for (const bool with_metadata : {false, true}) {
    const std::string path = (folder / "model.safetensors").string();
    save_safetensors(path, tensors, with_metadata ? metadata : std::map<std::string, std::string>{});
    const SafetensorsFile loaded = load_safetensors(path);
    REQUIRE(loaded.tensors.size() == tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      CHECK(loaded.tensors[i].first == tensors[i].first);  // file order is the given order
      CHECK(bit_equal(loaded.tensors[i].second, tensors[i].second));
      CHECK(loaded.tensors[i].second.device() == Device::cpu());
    }
    CHECK(loaded.metadata == (with_metadata ? metadata : std::map<std::string, std::string>{}));
    CHECK(loaded.skipped.empty());
    CHECK(loaded.contains("labels"));
    CHECK_FALSE(loaded.contains("missing"));
    CHECK(loaded.at("scalar").item() == 2.5);
    CHECK_THROWS_WITH(loaded.at("missing"), Catch::Contains("missing"));
    // The data section starts 8-byte aligned.
    std::ifstream file(path, std::ios::binary);
    unsigned char length[8];
    file.read(reinterpret_cast<char*>(length), 8);
    CHECK(length[0] % 8 == 0);
  }
  fs::remove_all(folder);
}

TEST_CASE("safetensors: a file made by hand from the spec loads, skipping unsupported dtypes", "[safetensors]") {
  const fs::path folder = scratch_folder("hand_made");
  // PyTorch's BatchNorm writes num_batches_tracked as an I64 scalar; kiln skips it instead of failing the file.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("bn.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[8,16]},)"
      R"("ids":{"dtype":"I32","shape":[3],"data_offsets":[16,28]},)"
      R"("scale":{"dtype":"F64","shape":[],"data_offsets":[28,36]}}  )";
  const std::string data = raw(std::vector<float>{0.5f, -4.0f}) + raw(std::vector<std::int64_t>{1234}) +
                           raw(std::vector<std::int32_t>{3, -1, 9}) + raw(std::vector<double>{0.125});
  const fs::path path = folder / "spec.safetensors";
  write_bytes(path, safetensors_bytes(header, data));

  const SafetensorsFile loaded = load_safetensors(path.string());
  REQUIRE(loaded.tensors.size() == 3);
  CHECK(loaded.tensors[0].first == "bn.weight");
  CHECK(loaded.at("bn.weight").shape() == Shape{2});
  CHECK(loaded.at("bn.weight").to_vector() == std::vector<float>{0.5f, -4.0f});
  CHECK(loaded.at("ids").dtype() == DType::i32);
  CHECK(loaded.at("ids").to_vector_f64() == std::vector<double>{3, -1, 9});
  CHECK(loaded.at("scale").dim() == 0);
  CHECK(loaded.at("scale").item() == 0.125);
  CHECK(loaded.skipped == std::vector<std::string>{"bn.num_batches_tracked"});
  CHECK_FALSE(loaded.contains("bn.num_batches_tracked"));
  CHECK(loaded.metadata == std::map<std::string, std::string>{{"format", "pt"}});
  fs::remove_all(folder);
}

TEST_CASE("safetensors: corrupt files are rejected naming the file and the problem", "[safetensors]") {
  const fs::path folder = scratch_folder("corrupt");
  const std::string f32_pair = raw(std::vector<float>{1.0f, 2.0f});
  const auto rejects = [&](const std::string& case_name, const std::string& bytes, const std::string& problem) {
    INFO(case_name);
    const fs::path path = folder / (case_name + ".safetensors");
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(load_safetensors(path.string()),
                      Catch::Contains(path.string()) && Catch::Contains(problem, Catch::CaseSensitive::No));
  };
  const auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
  };

  const std::string missing = (folder / "absent.safetensors").string();
  CHECK_THROWS_WITH(load_safetensors(missing), Catch::Contains(missing) && Catch::Contains("cannot open"));
  rejects("short", std::string("\x01\x00\x00", 3), "shorter than the 8-byte");
  rejects("empty", "", "shorter than the 8-byte");
  rejects("length_past_end", length_prefix(64) + "{}", "exceeds the 2 bytes");
  rejects("length_over_limit", length_prefix(200'000'000) + "{}", "100 MB");
  rejects("length_huge", length_prefix(~std::uint64_t{0}) + "{}", "100 MB");
  rejects("invalid_json", safetensors_bytes(R"({"a": {"dtype": )", f32_pair), "not valid JSON");
  rejects("not_object", safetensors_bytes("[1, 2]", ""), "not a JSON object");
  rejects("entry_not_object", safetensors_bytes(R"({"a": 3})", ""), "'a': entry is not a JSON object");
  rejects("missing_offsets", safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", f32_pair), "data_offsets");
  rejects("out_of_range", safetensors_bytes(R"({"a":)" + entry("F32", "[2]", "[0,12]") + "}", f32_pair),
          "out of range");
  rejects("reversed", safetensors_bytes(R"({"a":)" + entry("F32", "[0]", "[8,0]") + "}", f32_pair), "out of range");
  rejects("negative_offset", safetensors_bytes(R"({"a":)" + entry("F32", "[2]", "[-8,0]") + "}", f32_pair),
          "non-negative integers");
  rejects("size_mismatch", safetensors_bytes(R"({"a":)" + entry("F32", "[3]", "[0,8]") + "}", f32_pair),
          "needs 12");
  rejects("f64_size_mismatch", safetensors_bytes(R"({"a":)" + entry("F64", "[2]", "[0,8]") + "}", f32_pair),
          "needs 16");
  rejects("shape_overflow",
          safetensors_bytes(R"({"a":)" + entry("F32", "[4294967296,4294967296]", "[0,8]") + "}", f32_pair),
          "more than 2^64");
  rejects("rank_nine", safetensors_bytes(R"({"a":)" + entry("F32", "[1,1,1,1,1,1,1,1,2]", "[0,8]") + "}", f32_pair),
          "'a': shape [1,1,1,1,1,1,1,1,2] has 9 dimensions");
  rejects("negative_dim", safetensors_bytes(R"({"a":)" + entry("F32", "[-2]", "[0,8]") + "}", f32_pair),
          "negative size");
  rejects("overlap",
          safetensors_bytes(R"({"a":)" + entry("F32", "[2]", "[0,8]") + R"(,"b":)" + entry("F32", "[1]", "[4,8]") +
                                "}",
                            f32_pair),
          "'b' overlaps tensor 'a'");
  rejects("hole", safetensors_bytes(R"({"a":)" + entry("F32", "[1]", "[4,8]") + "}", f32_pair), "unused bytes [0, 4)");
  rejects("trailing_bytes", safetensors_bytes(R"({"a":)" + entry("F32", "[1]", "[0,4]") + "}", f32_pair),
          "unused bytes [4, 8)");
  rejects("unknown_dtype", safetensors_bytes(R"({"a":)" + entry("F33", "[2]", "[0,8]") + "}", f32_pair),
          "unknown dtype \"F33\"");
  rejects("skipped_dtype_size", safetensors_bytes(R"({"a":)" + entry("I64", "[2]", "[0,8]") + "}", f32_pair),
          "needs 16");
  rejects("bad_metadata", safetensors_bytes(R"({"__metadata__":{"epoch":3}})", ""), "metadata 'epoch'");
  fs::remove_all(folder);
}

TEST_CASE("safetensors: saving replaces an existing file only on success", "[safetensors]") {
  const fs::path folder = scratch_folder("atomic");
  const std::string path = (folder / "checkpoint.safetensors").string();
  const Tensor first = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3});
  save_safetensors(path, {{"w", first}});

  // A save that fails leaves the old file whole.
  CHECK_THROWS_WITH(save_safetensors(path, {{"w", Tensor::ones({2})}, {"w", Tensor::ones({2})}}),
                    Catch::Contains(path) && Catch::Contains("appears twice"));
  CHECK_THROWS_WITH(save_safetensors(path, {{"v", Tensor::ones({2})}, {"w", Tensor()}}),
                    Catch::Contains("'w' is undefined"));
  CHECK(bit_equal(load_safetensors(path).at("w"), first));

  // A failure after the temporary file is written (the destination is a folder) removes the temporary file.
  const std::string blocked = (folder / "blocked.safetensors").string();
  fs::create_directory(blocked);
  CHECK_THROWS_WITH(save_safetensors(blocked, {{"w", first}}), Catch::Contains("cannot rename"));

  const Tensor second = Tensor::from_vector(std::vector<double>{-1, 0.5}, {1, 2});
  save_safetensors(path, {{"w", second}});
  CHECK(bit_equal(load_safetensors(path).at("w"), second));

  std::vector<std::string> leftovers;
  for (const auto& item : fs::directory_iterator(folder)) leftovers.push_back(item.path().filename().string());
  std::sort(leftovers.begin(), leftovers.end());
  CHECK(leftovers == std::vector<std::string>{"blocked.safetensors", "checkpoint.safetensors"});
  fs::remove_all(folder);
}
