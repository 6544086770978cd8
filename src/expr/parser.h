// Parser: the second stage of the expression pipeline (lexer -> parser -> binder -> evaluator).
//
// Turns one Graphite target (the text of a Grafana query's `target`) into an Expr tree by
// recursive descent over the lexer's tokens. The grammar, and every error form, are in
// docs/expressions.md. Input size, node count and call nesting are bounded by ParseLimits, so the
// recursion depth and the memory used are bounded whatever the input.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "expr/ast.h"

namespace sluice {

// Hard ceiling on ParseLimits::max_depth: the parser recurses a few frames per nested call.
inline constexpr int kMaxParseDepthCeiling = 256;

struct ParseLimits {
  // Most calls that may enclose one another (`f(g(x))` is 2, and so is `x|f()|g()`, the same
  // tree). Default 64; values above kMaxParseDepthCeiling are treated as the ceiling, negative
  // values as 0 (no calls).
  int max_depth = 64;
  // Longest accepted target, in bytes. Default 64 KiB.
  size_t max_bytes = 64 * 1024;
  // Most AST nodes (calls, paths and literals; a named argument's value counts, its name does
  // not). Default 10,000.
  size_t max_nodes = 10000;
};

// Parses `text` as one target: a series path or a function call, then any piped calls, each
// built as the call it means (`x|f(a)` gives the same tree as `f(x, a)`). Returns the tree, or
// InvalidArgument naming what is wrong, its 1-based byte column and the text around it, e.g.
//   unexpected ',' at column 15 in "sumSeries(a.b,,c)"
// At the top level a bare word is always a path (`1`, `true` and `None` are metric names there);
// inside an argument list it may be a number (`inf` too), a boolean or None, unless a pipe follows
// it (only a series is piped, so `f(1|g())` pipes the path `1`). Thread-safe; `text` is not
// retained.
Result<std::unique_ptr<Expr>> ParseExpression(std::string_view text, const ParseLimits& limits = {});

}  // namespace sluice
