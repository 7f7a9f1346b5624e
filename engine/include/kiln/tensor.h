#pragma once
// kiln::Tensor: an n-dimensional array on the CPU or a CUDA device, with shared storage and autograd hooks.
// Tensors are always contiguous (row-major); reshape/flatten are views that share storage.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/device.h"
#include "kiln/dtype.h"
#include "kiln/error.h"
#include "kiln/random.h"
#include "kiln/shape.h"

namespace kiln {

// A block of memory on one device; freed by the device's allocator when the last tensor using it goes.
// Host memory may be page-locked (pinned: needs a usable CUDA device), so that copies to a GPU run at full speed.
enum class HostMemory : std::uint8_t { pageable, pinned };

class Storage {
 public:
  Storage(std::size_t bytes, Device device, HostMemory host_memory = HostMemory::pageable);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  bool pinned() const { return pinned_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
  bool pinned_ = false;
};

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false

  // Factories. Every factory takes the dtype and device explicitly (defaults: float32 on the CPU).
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor randn(const Shape& shape, Generator& generator, DType dtype = DType::f32,
                      Device device = Device::cpu());
  static Tensor uniform(const Shape& shape, double low, double high, Generator& generator,
                        DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<std::int32_t>& values, const Shape& shape,
                           Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  std::int64_t size(std::int64_t d) const;  // negative d counts from the end
  std::int64_t numel() const;
  DType dtype() const;
  Device device() const;
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype()); }

  // Typed access to the elements; throws when T does not match the dtype. On CUDA tensors this is a device pointer.
  template <class T>
  T* data() const;
  void* raw_data() const;

  // Copies (never views): to another device or dtype; a no-op returning *this when nothing changes.
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor clone() const;
  // Copies `source`'s elements into this tensor in place (same shape and dtype, any devices). Not recorded.
  void copy_from(const Tensor& source);
  void fill(double value);  // in place, not recorded

  // Views sharing storage, recorded by autograd. One size of -1 is inferred.
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(std::int64_t start_dim = 1) const;  // dims start_dim.. merged into one
  // Indices [start, start + length) of one dimension. Every dimension before it must have size 1 (dimension 0 always
  // qualifies), so that the view is contiguous: e.g. element i of a buffer, to copy_from() into on its device.
  Tensor narrow(std::int64_t dimension, std::int64_t start, std::int64_t length) const;
  // The same storage, cut from the autograd graph.
  Tensor detach() const;

  // Autograd.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool requires_grad);  // only on leaves
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward pass reaches this leaf
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops the accumulated gradient
  std::shared_ptr<Node> grad_fn() const;
  void backward() const;  // from a scalar (one-element) tensor

  // Host-side reading, for tests, metrics and printing.
  std::vector<float> to_vector() const;
  std::vector<double> to_vector_f64() const;
  double item() const;  // one-element tensors

  // Identity of the underlying object (two handles to the same tensor compare equal).
  bool same(const Tensor& other) const { return impl_ == other.impl_; }
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  std::size_t offset_bytes = 0;
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  Tensor grad;                    // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;  // the op that produced this tensor (null for leaves)
};

// "tensor [2, 3] float32 on cpu" for messages.
std::string describe(const Tensor& tensor);

}  // namespace kiln
