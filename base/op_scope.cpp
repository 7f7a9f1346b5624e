#include "base/op_scope.h"

namespace kiln {
namespace {
thread_local const OpScope* innermost = nullptr;
}

OpScope::OpScope(std::string_view op, Pass pass) : op_(op), pass_(pass), outer_(innermost) { innermost = this; }

OpScope::~OpScope() { innermost = outer_; }

std::string OpScope::current() {
  std::string text;
  for (const OpScope* scope = innermost; scope != nullptr; scope = scope->outer_) {
    if (!text.empty()) text += " in ";
    text += scope->op_;
    if (scope->pass_ == Pass::backward) text += " backward";
  }
  return text;
}

std::string OpScope::in_current() {
  const std::string op = current();
  return op.empty() ? op : " in " + op;
}

}  // namespace kiln
