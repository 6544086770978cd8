// Registry: every function of the expression language, described as data.
//
// A FunctionSpec holds what graphite-web's function metadata holds — name, group, description,
// parameters with types, defaults and options — plus the C++ kernel. The binder checks calls
// against it, docs/expressions.md's function table and the Graphite `/functions` listing are made
// from it, so a function's documentation cannot drift from what it accepts.
//
// Functions live in expr/functions/<group>.cc, one file per group; each file has a
// Register<Group>Functions(Registry*) that Registry::Default() calls. Thread-safe once built.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/series_list.h"

namespace sluice::expr {

// graphite-web's ParamTypes, spelled as its /functions listing spells them.
enum class ArgType {
  kSeriesList,      // "seriesList": a path or a call
  kSeriesLists,     // "seriesLists": the same, as a variadic parameter of several lists
  kString,          // "string"
  kInteger,         // "integer"
  kFloat,           // "float": any number
  kBoolean,         // "boolean"
  kInterval,        // "interval": a string such as '5min' or '-1d'
  kIntOrInterval,   // "intOrInterval": a point count or an interval string
  kNode,            // "node": an integer path position (negative counts from the end)
  kNodeOrTag,       // "nodeOrTag": an integer position or a tag name
  kTag,             // "tag": a tag name
  kAggFunc,         // "aggFunc": one of `options`
  kAggOrSeriesFunc, // "aggOrSeriesFunc": one of `options`
  kIntOrInf,        // "intOrInf": an integer or inf
  kAny,             // "any": a number, string, boolean, None or series list
};
std::string_view ArgTypeName(ArgType type);

struct ParamSpec {
  std::string name = {};
  ArgType type = ArgType::kAny;
  bool required = false;
  // The default as graphite-web shows it in /functions ("average", "1", "false"); empty = none.
  // Informational: kernels apply their own defaults through CallArgs' fallbacks.
  std::string default_value = {};
  std::vector<std::string> options = {};  // allowed values (aggFunc), shown in /functions
  bool multiple = false;             // variadic: only the last parameter; takes the remaining args
  // Series parameters only: the evaluator passes the unevaluated plan (CallArgs::plan) instead of
  // the series, for functions that evaluate it over another range (movingAverage, timeShift).
  bool lazy = false;
};

class EvalContext;
class CallArgs;

// A function's kernel: reads its arguments from `args`, appends its output to `out`. Errors name
// the function and, where it applies, the argument (the evaluator adds the column).
using FunctionImpl = Status (*)(EvalContext& ctx, CallArgs& args, SeriesList* out);

struct FunctionSpec {
  std::string name = {};
  std::string group = {};  // graphite's group: Combine, Transform, Calculate, Filter Series, Sorting,
                      // Alias, Graph, Special
  std::string description = {};  // one paragraph, Markdown
  std::string example = {};      // an expression using it, e.g. "sumSeries(app.*.requests)"
  std::vector<ParamSpec> params = {};
  FunctionImpl impl = nullptr;
};

class Registry {
 public:
  // The registry with every built-in function. Built on first use; immutable afterwards.
  static const Registry& Default();

  // Fails (at startup, i.e. in tests) when the name is taken or the spec is malformed.
  Status Add(FunctionSpec spec);
  // nullptr when unknown. Names are case-sensitive, as in graphite-web.
  const FunctionSpec* Find(std::string_view name) const;
  // Sorted by name.
  std::vector<const FunctionSpec*> All() const;

 private:
  std::map<std::string, std::unique_ptr<FunctionSpec>, std::less<>> functions_;
};

// Registers `spec` at startup; a malformed or duplicate spec is a programming error and aborts
// with its message (the function tests catch it first).
void AddFunctionOrDie(Registry* registry, FunctionSpec spec);

// Per-group registration, defined in expr/functions/*.cc.
void RegisterCombineFunctions(Registry* registry);
void RegisterTransformFunctions(Registry* registry);
void RegisterWindowFunctions(Registry* registry);
void RegisterFilterFunctions(Registry* registry);
void RegisterNamingFunctions(Registry* registry);
void RegisterSpecialFunctions(Registry* registry);

}  // namespace sluice::expr
