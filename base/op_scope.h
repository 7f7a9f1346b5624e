#pragma once
// The op running on this thread, for errors raised below the op layer: the caching allocator's out-of-memory error
// names it. Each op in engine/ops opens a scope for its forward and its backward; scopes nest, so an op called by
// another is named with it ("mul in mul backward").
#include <string>
#include <string_view>

namespace kiln {

enum class Pass { forward, backward };

class OpScope {
 public:
  // `op` must outlive the scope (ops pass string literals).
  explicit OpScope(std::string_view op, Pass pass = Pass::forward);
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

  // The open scopes of this thread, innermost first ("bias_add in linear backward"); empty outside any op.
  static std::string current();
  // " in " + current(), or empty outside any op: for error messages.
  static std::string in_current();

 private:
  std::string_view op_;
  Pass pass_;
  const OpScope* outer_;
};

}  // namespace kiln
