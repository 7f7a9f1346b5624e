#pragma once
// Tensor shapes: dimension sizes, outermost first (NCHW for images). A Shape holds up to eight sizes inline, so that
// making one (every op makes several) never allocates; it reads like a std::vector<std::int64_t>.
#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

namespace kiln {

class Shape {
 public:
  static constexpr std::size_t max_rank = 8;
  using value_type = std::int64_t;
  using size_type = std::size_t;
  using iterator = std::int64_t*;
  using const_iterator = const std::int64_t*;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> sizes) : Shape(sizes.begin(), sizes.end()) {}
  explicit Shape(std::size_t rank, std::int64_t size = 0) {
    resize(rank, size);
  }
  template <std::input_iterator Iterator>
  Shape(Iterator first, Iterator last) {
    for (; first != last; ++first) push_back(static_cast<std::int64_t>(*first));
  }
  explicit Shape(const std::vector<std::int64_t>& sizes) : Shape(sizes.begin(), sizes.end()) {}

  std::size_t size() const { return rank_; }
  bool empty() const { return rank_ == 0; }
  std::int64_t& operator[](std::size_t d) { return sizes_[d]; }
  std::int64_t operator[](std::size_t d) const { return sizes_[d]; }
  std::int64_t& front() { return sizes_[0]; }
  std::int64_t front() const { return sizes_[0]; }
  std::int64_t& back() { return sizes_[rank_ - 1]; }
  std::int64_t back() const { return sizes_[rank_ - 1]; }
  std::int64_t* data() { return sizes_.data(); }
  const std::int64_t* data() const { return sizes_.data(); }
  iterator begin() { return sizes_.data(); }
  iterator end() { return sizes_.data() + rank_; }
  const_iterator begin() const { return sizes_.data(); }
  const_iterator end() const { return sizes_.data() + rank_; }

  void push_back(std::int64_t size) {
    check_rank(rank_ + 1);
    sizes_[rank_++] = size;
  }
  void pop_back() { --rank_; }
  void resize(std::size_t rank, std::int64_t size = 0) {
    check_rank(rank);
    for (std::size_t d = rank_; d < rank; ++d) sizes_[d] = size;
    rank_ = rank;
  }
  iterator insert(const_iterator position, std::int64_t size) {
    const auto index = static_cast<std::size_t>(position - begin());
    check_rank(rank_ + 1);
    std::copy_backward(begin() + index, end(), end() + 1);
    sizes_[index] = size;
    ++rank_;
    return begin() + index;
  }
  iterator erase(const_iterator position) {
    const auto index = static_cast<std::size_t>(position - begin());
    std::copy(begin() + index + 1, end(), begin() + index);
    --rank_;
    return begin() + index;
  }
  std::vector<std::int64_t> to_vector() const { return {begin(), end()}; }

  friend bool operator==(const Shape& a, const Shape& b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

 private:
  // Throws kiln::Error (shape.cpp) naming the rank asked for.
  static void check_rank(std::size_t rank) {
    if (rank > max_rank) rank_too_large(rank);
  }
  [[noreturn]] static void rank_too_large(std::size_t rank);

  std::array<std::int64_t, max_rank> sizes_{};
  std::size_t rank_ = 0;
};

std::int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 5]"

}  // namespace kiln
