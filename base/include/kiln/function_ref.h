#pragma once
// kiln::FunctionRef<R(Args...)>: a non-owning reference to a callable, for parameters that are called during the call
// and not kept (parallel_for bodies, module visitors). Unlike std::function it never allocates; the callable must
// outlive the call that receives it, which a lambda written in the argument list does.
#include <memory>
#include <type_traits>
#include <utility>

namespace kiln {

template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                              std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& callable) noexcept  // NOLINT: implicit, so that callers pass lambdas
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(callable)))),
        call_(&call_as<std::remove_reference_t<F>>) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  template <class F>
  static R call_as(void* object, Args... args) {
    return (*static_cast<F*>(object))(std::forward<Args>(args)...);
  }

  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace kiln
