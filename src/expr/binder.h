// Binder: the third stage of the expression pipeline (lexer -> parser -> binder -> evaluator).
//
// Turns a parsed Expr into a BoundExpr: function names resolved against the Registry, named
// arguments moved to their parameter's position, arity and argument types checked, paths compiled
// to matchers. Done once per distinct target text (the engine caches the result); evaluation then
// only runs. Errors are InvalidArgument naming the function, the argument and the column, e.g.
//   movingAverage: argument 2 (windowSize) must be a number or an interval string, got a series
//   path at column 22
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "expr/ast.h"
#include "expr/registry.h"
#include "series/name_matcher.h"

namespace sluice::expr {

struct BoundExpr {
  enum class Kind { kPath, kCall, kString, kNumber, kBool, kNone };
  Kind kind = Kind::kNone;
  int column = 0;  // 1-based, in the target text

  std::string text;  // kPath: the path as written; kString: the value
  double number = 0;
  bool is_integer = false;
  bool boolean = false;

  NameMatcher matcher;  // kPath: compiled with NameMatcher::CompilePath

  const FunctionSpec* function = nullptr;  // kCall
  // kCall: one slot per parameter before the variadic one (nullptr = not given), then every
  // argument that fills the variadic parameter, in order. args.size() >= fixed_params.
  std::vector<std::unique_ptr<BoundExpr>> args;
  size_t fixed_params = 0;
};

// Binds `expr`. `registry` must outlive the result.
Result<std::unique_ptr<BoundExpr>> Bind(const Expr& expr, const Registry& registry);

}  // namespace sluice::expr
