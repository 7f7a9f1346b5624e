#include "kiln/tensor.h"

#include <cstdlib>
#include <cstring>

#include "base/allocator.h"
#include "base/cuda/runtime.h"
#include "kernels/philox.h"
#include "kiln/autograd.h"
#include "kiln/pool_allocator.h"

namespace kiln {

// ---- Storage -------------------------------------------------------------------------------------------------------

Storage::Storage(std::size_t bytes, Device device, HostMemory host_memory)
    : bytes_(bytes), device_(device), pinned_(device.is_cpu() && host_memory == HostMemory::pinned) {
  if (pinned_) {
    data_ = cuda::allocate_pinned(bytes);
  } else {
    data_ = cached_allocate(bytes, device);
  }
}

Storage::~Storage() {
  if (pinned_) cuda::release_pinned(data_);
  else cached_release(data_, device_);
}

// ---- Factories -----------------------------------------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  auto impl = make_pooled<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->storage = make_pooled<Storage>(static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype), device);
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor tensor = empty(shape, dtype, device);
  tensor.fill(value);
  return tensor;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

namespace {

// Fills a host tensor from a per-element function of the counter index, then moves it to `device`.
template <class Draw>
Tensor draw(const Shape& shape, DType dtype, Device device, Generator& generator, Draw element) {
  KILN_CHECK(dtype == DType::f32 || dtype == DType::f64, "random tensors must be float32 or float64, got ",
             dtype_name(dtype));
  Tensor host = Tensor::empty(shape, dtype, Device::cpu());
  const std::int64_t count = host.numel();
  const std::uint64_t first = generator.reserve(static_cast<std::uint64_t>(count));
  const std::uint64_t seed = generator.seed();
  if (dtype == DType::f32) {
    float* out = host.data<float>();
    for (std::int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(element(seed, first + i));
  } else {
    double* out = host.data<double>();
    for (std::int64_t i = 0; i < count; ++i) out[i] = element(seed, first + i);
  }
  return host.to(device);
}

template <class T>
Tensor from_host_values(const std::vector<T>& values, const Shape& shape, Device device) {
  KILN_CHECK(static_cast<std::int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
             " values do not fill shape ", shape_str(shape));
  Tensor host = Tensor::empty(shape, dtype_of<T>(), Device::cpu());
  if (!values.empty()) std::memcpy(host.raw_data(), values.data(), values.size() * sizeof(T));
  return host.to(device);
}

}  // namespace

Tensor Tensor::randn(const Shape& shape, Generator& generator, DType dtype, Device device) {
  return draw(shape, dtype, device, generator, kernels::philox_normal);
}

Tensor Tensor::uniform(const Shape& shape, double low, double high, Generator& generator, DType dtype,
                       Device device) {
  return draw(shape, dtype, device, generator, [low, high](std::uint64_t seed, std::uint64_t counter) {
    return low + (high - low) * kernels::philox_uniform_f64(seed, counter);
  });
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  return from_host_values(values, shape, device);
}
Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, Device device) {
  return from_host_values(values, shape, device);
}
Tensor Tensor::from_vector(const std::vector<std::int32_t>& values, const Shape& shape, Device device) {
  return from_host_values(values, shape, device);
}

// ---- Properties ----------------------------------------------------------------------------------------------------

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  KILN_CHECK(impl != nullptr, "use of an undefined tensor");
  return *impl;
}
}  // namespace

const Shape& Tensor::shape() const { return checked(impl_).shape; }
DType Tensor::dtype() const { return checked(impl_).dtype; }
Device Tensor::device() const { return checked(impl_).storage->device(); }
std::int64_t Tensor::numel() const { return shape_numel(shape()); }

std::int64_t Tensor::size(std::int64_t d) const {
  const std::int64_t rank = dim();
  const std::int64_t index = d < 0 ? d + rank : d;
  KILN_CHECK(index >= 0 && index < rank, "dimension ", d, " out of range for shape ", shape_str(shape()));
  return shape()[static_cast<std::size_t>(index)];
}

void* Tensor::raw_data() const {
  const TensorImpl& impl = checked(impl_);
  return static_cast<char*>(impl.storage->data()) + impl.offset_bytes;
}

template <class T>
T* Tensor::data() const {
  KILN_CHECK(dtype() == dtype_of<T>(), "tensor is ", dtype_name(dtype()), ", accessed as ",
             dtype_name(dtype_of<T>()));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template std::int32_t* Tensor::data<std::int32_t>() const;

std::string describe(const Tensor& tensor) {
  if (!tensor.defined()) return "undefined tensor";
  return "tensor " + shape_str(tensor.shape()) + " " + std::string(dtype_name(tensor.dtype())) + " on " +
         tensor.device().str();
}

// ---- Copies --------------------------------------------------------------------------------------------------------

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor result = empty(shape(), dtype(), device);
  cuda::copy(result.raw_data(), device, raw_data(), this->device(), nbytes());
  return result;
}

namespace {
template <class From, class To>
void convert(const From* in, To* out, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) out[i] = static_cast<To>(in[i]);
}

template <class From>
void convert_to(const From* in, const Tensor& out) {
  switch (out.dtype()) {
    case DType::f32: convert(in, out.data<float>(), out.numel()); break;
    case DType::f64: convert(in, out.data<double>(), out.numel()); break;
    case DType::i32: convert(in, out.data<std::int32_t>(), out.numel()); break;
  }
}
}  // namespace

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  const Tensor host = cpu();
  Tensor converted = empty(shape(), dtype, Device::cpu());
  switch (this->dtype()) {
    case DType::f32: convert_to(host.data<float>(), converted); break;
    case DType::f64: convert_to(host.data<double>(), converted); break;
    case DType::i32: convert_to(host.data<std::int32_t>(), converted); break;
  }
  return converted.to(device());
}

Tensor Tensor::clone() const {
  Tensor result = empty(shape(), dtype(), device());
  result.copy_from(*this);
  return result;
}

void Tensor::copy_from(const Tensor& source) {
  KILN_CHECK(source.shape() == shape() && source.dtype() == dtype(), "copy_from: source ", describe(source),
             " does not match destination ", describe(*this));
  if (device().is_cpu() && source.device().is_cpu()) {
    if (nbytes() > 0 && raw_data() != source.raw_data()) std::memmove(raw_data(), source.raw_data(), nbytes());
    return;
  }
  cuda::copy(raw_data(), device(), source.raw_data(), source.device(), nbytes());
}

void Tensor::fill(double value) {
  const std::int64_t count = numel();
  if (device().is_cuda()) {
    if (dtype() == DType::f64) {
      double typed = value;
      unsigned long long bits;
      std::memcpy(&bits, &typed, 8);
      cuda::fill64(raw_data(), static_cast<std::size_t>(count), bits, device().index);
    } else {
      unsigned bits;
      if (dtype() == DType::f32) {
        const float typed = static_cast<float>(value);
        std::memcpy(&bits, &typed, 4);
      } else {
        const std::int32_t typed = static_cast<std::int32_t>(value);
        std::memcpy(&bits, &typed, 4);
      }
      cuda::fill32(raw_data(), static_cast<std::size_t>(count), bits, device().index);
    }
    return;
  }
  switch (dtype()) {
    case DType::f32: std::fill_n(data<float>(), count, static_cast<float>(value)); break;
    case DType::f64: std::fill_n(data<double>(), count, value); break;
    case DType::i32: std::fill_n(data<std::int32_t>(), count, static_cast<std::int32_t>(value)); break;
  }
}

// ---- Views ---------------------------------------------------------------------------------------------------------

namespace {
Tensor view_as(const Tensor& tensor, const Shape& shape) {
  auto impl = make_pooled<TensorImpl>();
  impl->storage = tensor.impl()->storage;
  impl->offset_bytes = tensor.impl()->offset_bytes;
  impl->shape = shape;
  impl->dtype = tensor.dtype();
  return Tensor(std::move(impl));
}
}  // namespace

Tensor Tensor::reshape(const Shape& requested) const {
  Shape shape = requested;
  std::int64_t known = 1;
  int inferred = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      KILN_CHECK(inferred < 0, "reshape: more than one -1 in ", shape_str(requested));
      inferred = static_cast<int>(i);
    } else {
      KILN_CHECK(shape[i] >= 0, "reshape: negative size in ", shape_str(requested));
      known *= shape[i];
    }
  }
  if (inferred >= 0) {
    KILN_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", shape_str(this->shape()), " to ",
               shape_str(requested));
    shape[static_cast<std::size_t>(inferred)] = numel() / known;
  }
  KILN_CHECK(shape_numel(shape) == numel(), "reshape: cannot reshape ", shape_str(this->shape()), " (", numel(),
             " elements) to ", shape_str(requested));
  Tensor result = view_as(*this, shape);
  const Shape original = this->shape();
  record(result, "reshape", {*this}, [original](const Tensor& grad, const GradientNeeds&) {
    return Gradients{grad.reshape(original)};
  });
  return result;
}

Tensor Tensor::flatten(std::int64_t start_dim) const {
  const std::int64_t rank = dim();
  const std::int64_t start = start_dim < 0 ? start_dim + rank : start_dim;
  KILN_CHECK(start >= 0 && start < std::max<std::int64_t>(rank, 1), "flatten: start dim ", start_dim,
             " out of range for shape ", shape_str(shape()));
  Shape flat(shape().begin(), shape().begin() + start);
  flat.push_back(-1);
  return reshape(flat);
}

Tensor Tensor::narrow(std::int64_t dimension, std::int64_t start, std::int64_t length) const {
  const std::int64_t rank = dim();
  const std::int64_t d = dimension < 0 ? dimension + rank : dimension;
  KILN_CHECK(d >= 0 && d < rank, "narrow: dimension ", dimension, " out of range for shape ", shape_str(shape()));
  KILN_CHECK(start >= 0 && length >= 0 && start + length <= size(d), "narrow: [", start, ", ", start + length,
             ") is outside dimension ", dimension, " of shape ", shape_str(shape()));
  std::int64_t inner = 1;
  for (std::int64_t k = 0; k < rank; ++k) {
    KILN_CHECK(k >= d || size(k) == 1, "narrow: dimension ", dimension, " of shape ", shape_str(shape()),
               " would give a view that is not contiguous (the dimensions before it must have size 1)");
    if (k > d) inner *= size(k);
  }
  Shape narrowed = shape();
  narrowed[static_cast<std::size_t>(d)] = length;
  Tensor result = view_as(*this, narrowed);
  result.impl()->offset_bytes += static_cast<std::size_t>(start * inner) * dtype_size(dtype());
  const Shape original = shape();
  record(result, "narrow", {*this}, [original, d, start, length](const Tensor& grad, const GradientNeeds&) {
    Tensor full = zeros(original, grad.dtype(), grad.device());
    full.narrow(d, start, length).copy_from(grad);
    return Gradients{full};
  });
  return result;
}

Tensor Tensor::detach() const { return view_as(*this, shape()); }

// ---- Autograd accessors --------------------------------------------------------------------------------------------

bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  KILN_CHECK(is_leaf(), "set_requires_grad: only leaf tensors (not results of ops) can be marked");
  KILN_CHECK(!requires_grad || dtype() != DType::i32, "set_requires_grad: int32 tensors have no gradients");
  impl_->requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }
Tensor Tensor::grad() const { return checked(impl_).grad; }

void Tensor::set_grad(const Tensor& grad) const {
  KILN_CHECK(!grad.defined() || grad.shape() == shape(), "set_grad: gradient ", describe(grad),
             " does not match ", describe(*this));
  impl_->grad = grad;
}

void Tensor::zero_grad() const {
  checked(impl_);
  impl_->grad = Tensor();
}
std::shared_ptr<Node> Tensor::grad_fn() const { return checked(impl_).grad_fn; }

// ---- Host reading --------------------------------------------------------------------------------------------------

std::vector<float> Tensor::to_vector() const {
  const Tensor host = to(DType::f32).cpu();
  const float* values = host.data<float>();
  return std::vector<float>(values, values + host.numel());
}

std::vector<double> Tensor::to_vector_f64() const {
  const Tensor host = to(DType::f64).cpu();
  const double* values = host.data<double>();
  return std::vector<double>(values, values + host.numel());
}

double Tensor::item() const {
  KILN_CHECK(numel() == 1, "item: expected a one-element tensor, got ", describe(*this));
  const Tensor host = cpu();  // no copy for a CPU tensor, and no vector: the training loop calls this every step
  switch (host.dtype()) {
    case DType::f32: return *host.data<float>();
    case DType::f64: return *host.data<double>();
    case DType::i32: return *host.data<std::int32_t>();
  }
  fail("item: unknown dtype of ", describe(*this));
}

}  // namespace kiln
