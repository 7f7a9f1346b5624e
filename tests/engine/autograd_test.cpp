#include <catch2/catch.hpp>
#include <functional>

#include "kiln/kiln.h"

using namespace kiln;

TEST_CASE("autograd: gradients of a small graph and accumulation", "[autograd]") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  Tensor b = Tensor::from_vector(std::vector<double>{4, 5, 6}, {3});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  // loss = sum(a*b + a) -> dL/da = b + 1, dL/db = a; a is used twice (accumulates inside the graph).
  Tensor loss = sum(add(mul(a, b), a));
  CHECK(loss.item() == 38.0);
  loss.backward();
  CHECK(a.grad().to_vector_f64() == std::vector<double>{5, 6, 7});
  CHECK(b.grad().to_vector_f64() == std::vector<double>{1, 2, 3});
  // A second graph accumulates into the same leaves.
  sum(a).backward();
  CHECK(a.grad().to_vector_f64() == std::vector<double>{6, 7, 8});
  a.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("autograd: no_grad records nothing; released graphs refuse a second backward", "[autograd]") {
  Tensor w = Tensor::ones({4});
  w.set_requires_grad(true);
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_enabled());
    Tensor y = relu(w);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  CHECK(grad_enabled());
  Tensor loss = sum(scale(w, 2.0));
  CHECK(loss.requires_grad());
  loss.backward();
  CHECK(w.grad().to_vector() == std::vector<float>(4, 2.0f));
  CHECK_THROWS_WITH(loss.backward(), Catch::Contains("second time"));
  CHECK_THROWS_WITH(sum(Tensor::ones({2})).backward(), Catch::Contains("does not require a gradient"));
  CHECK_THROWS_WITH(relu(w).backward(), Catch::Contains("scalar"));
}

TEST_CASE("autograd: saved activations are released after backward", "[autograd]") {
  Tensor w = Tensor::ones({8});
  w.set_requires_grad(true);
  std::weak_ptr<TensorImpl> saved;
  Tensor loss;
  {
    Tensor hidden = relu(w);  // relu saves its input; mul saves both inputs (hidden among them)
    saved = hidden.impl();
    loss = sum(mul(hidden, hidden));
  }
  CHECK_FALSE(saved.expired());  // kept alive by the graph
  loss.backward();
  CHECK(saved.expired());
}

TEST_CASE("autograd: gradients flow through reshape views", "[autograd]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  x.set_requires_grad(true);
  sum(mul(x.reshape({3, 2}), x.reshape({3, 2}))).backward();
  CHECK(x.grad().shape() == Shape{2, 3});
  CHECK(x.grad().to_vector_f64() == std::vector<double>{2, 4, 6, 8, 10, 12});
}

namespace {
// An identity op whose backward runs `inside` first, to test what backward does when a backward function misbehaves.
Tensor identity_calling(const Tensor& x, std::function<void()> inside) {
  Tensor y = x.clone();
  record(y, "identity_calling", {x}, [inside](const Tensor& grad, const GradientNeeds&) {
    inside();
    return Gradients{grad};
  });
  return y;
}
}  // namespace

TEST_CASE("autograd: a throwing backward leaves no stale gradients; nested backward is refused", "[autograd]") {
  Tensor w = Tensor::from_vector(std::vector<double>{1, 2}, {2});
  w.set_requires_grad(true);
  // The throw comes after mul's gradient reached the node below (pending): a later pass must not see it.
  Tensor shared = scale(w, 3.0);
  Tensor failing = sum(mul(identity_calling(shared, [] { throw Error("boom"); }), shared));
  CHECK_THROWS_WITH(failing.backward(), Catch::Contains("boom"));
  CHECK_FALSE(w.grad().defined());

  sum(scale(w, 2.0)).backward();
  CHECK(w.grad().to_vector_f64() == std::vector<double>{2, 2});

  Tensor other = sum(scale(w, 5.0));
  Tensor nested = sum(identity_calling(w, [&other] { other.backward(); }));
  CHECK_THROWS_WITH(nested.backward(), Catch::Contains("inside another backward"));
  sum(w).backward();  // the flag is cleared after the error
  CHECK(w.grad().to_vector_f64() == std::vector<double>{3, 3});
}
