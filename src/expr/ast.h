// The syntax tree of a Graphite target expression, as the parser (expr/parser.h) builds it.
//
// This is the *parsed* form: names are not resolved and arguments are not checked against any
// function's signature; a later binding stage turns an Expr into a bound plan. Every node records
// the 1-based byte column where it starts in the target text, so later stages can point at it.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sluice {

enum class ExprKind { kPath, kCall, kString, kNumber, kBool, kNone };

struct Expr;

// `name=value` inside a call's argument list.
struct NamedArg {
  std::string name;
  int column = 0;  // of the name
  std::unique_ptr<Expr> value;
};

struct Expr {
  ExprKind kind = ExprKind::kNone;
  int column = 0;  // 1-based byte offset of the node's first character in the target text

  // kPath: the path exactly as written (globs, braces and backslash escapes kept verbatim).
  // kCall: the function name. kString: the unescaped value.
  std::string text;
  double number = 0;        // kNumber
  bool is_integer = false;  // kNumber written without '.' or exponent (graphite's int vs float)
  bool boolean = false;     // kBool

  std::vector<std::unique_ptr<Expr>> args;  // kCall: positional arguments, in order
  std::vector<NamedArg> named_args;         // kCall: named arguments, in order (after positional)
};

// A compact canonical dump, used by tests and debugging tools, e.g.
//   call(aliasByNode, call(sumSeries, path(app.*.requests)), num(1), key=str('x'))
// Forms: path(<text>), call(<name>[, <arg>...][, <name>=<arg>...]), str('<value>') with quote and
// backslash characters backslash-escaped, num(<shortest round-trip double>), bool(true|false), none.
// Walks the tree with an explicit stack, so any depth is safe. Defined in parser.cc.
std::string DumpAst(const Expr& expr);

}  // namespace sluice
