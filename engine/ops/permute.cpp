// permute: argument checks, a copy in the new dim order (kernels/permute), backward the inverse permutation.
#include "kiln/ops/shape_ops.h"

#include <array>
#include <sstream>
#include <string>

#include "engine/ops/dispatch.h"
#include "kernels/permute.h"
#include "kiln/autograd.h"

namespace kiln {

namespace {

std::string dims_str(std::span<const std::int64_t> dims) {
  std::ostringstream text;
  text << "(";
  for (std::size_t i = 0; i < dims.size(); ++i) text << (i > 0 ? ", " : "") << dims[i];
  text << ")";
  return text.str();
}

}  // namespace

Tensor permute(const Tensor& x, std::span<const std::int64_t> dims) {
  const OpScope op_scope("permute");
  KILN_CHECK(x.defined(), "permute: the input is undefined");
  const Shape& in_shape = x.shape();
  const auto rank = static_cast<std::int64_t>(in_shape.size());
  KILN_CHECK(static_cast<std::int64_t>(dims.size()) == rank, "permute: dims ", dims_str(dims), " name ", dims.size(),
             " dims, but the input ", shape_str(in_shape), " has ", rank);
  // dims[i] as a dim in 0..rank-1 (negative counts from the end); forward[i] = that dim, inverse[forward[i]] = i.
  std::array<std::int64_t, Shape::max_rank> forward{}, inverse{};
  std::array<bool, Shape::max_rank> seen{};
  Shape out_shape;
  for (std::int64_t i = 0; i < rank; ++i) {
    const std::int64_t dim = dims[static_cast<std::size_t>(i)];
    KILN_CHECK(dim >= -rank && dim < rank, "permute: dim ", dim, " in ", dims_str(dims),
               " is out of range for the input ", shape_str(in_shape), " (expected -", rank, "..", rank - 1, ")");
    const std::int64_t d = dim < 0 ? dim + rank : dim;
    KILN_CHECK(!seen[static_cast<std::size_t>(d)], "permute: dims ", dims_str(dims), " repeat dim ", d, " (input ",
               shape_str(in_shape), ")");
    seen[static_cast<std::size_t>(d)] = true;
    forward[static_cast<std::size_t>(i)] = d;
    inverse[static_cast<std::size_t>(d)] = i;
    out_shape.push_back(in_shape[static_cast<std::size_t>(d)]);
  }
  const auto size = static_cast<std::size_t>(rank);
  const kernels::PermuteGeometry geometry = kernels::permute_geometry({in_shape.data(), size}, {forward.data(), size});
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  const bool cuda = ops::on_cuda("permute", x);
  if (cuda) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::permute(x.data<float>(), y.data<float>(), geometry));
  } else if (x.dtype() == DType::i32) {
    kernels::cpu::permute(x.data<std::int32_t>(), y.data<std::int32_t>(), geometry);
  } else {
    ops::dispatch_float("permute", x, [&]<class T>() { kernels::cpu::permute(x.data<T>(), y.data<T>(), geometry); });
  }
  const kernels::PermuteGeometry backward_geometry =
      kernels::permute_geometry({out_shape.data(), size}, {inverse.data(), size});
  record(y, "permute", {x}, [backward_geometry, in_shape, cuda](const Tensor& dy, const GradientNeeds&) {
    const OpScope backward_scope("permute", Pass::backward);
    Tensor dx = Tensor::empty(in_shape, dy.dtype(), dy.device());
    if (cuda) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::permute(dy.data<float>(), dx.data<float>(), backward_geometry));
    } else {
      ops::dispatch_float("permute", dy,
                          [&]<class T>() { kernels::cpu::permute(dy.data<T>(), dx.data<T>(), backward_geometry); });
    }
    return Gradients{dx};
  });
  return y;
}

}  // namespace kiln
