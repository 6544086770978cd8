#include "expr/binder.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sluice::expr {
namespace {

std::string_view Describe(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kPath: return "a series path";
    case ExprKind::kCall: return "a function call";
    case ExprKind::kString: return "a string";
    case ExprKind::kNumber: return "a number";
    case ExprKind::kBool: return "a boolean";
    case ExprKind::kNone: return "None";
  }
  return "a value";
}

// What a parameter of `type` accepts, for messages.
std::string_view Expected(ArgType type) {
  switch (type) {
    case ArgType::kSeriesList:
    case ArgType::kSeriesLists: return "a series list (a path or a function call)";
    case ArgType::kString: return "a string";
    case ArgType::kTag: return "a tag name (a string)";
    case ArgType::kInterval: return "an interval string such as '5min'";
    case ArgType::kInteger:
    case ArgType::kNode: return "an integer";
    case ArgType::kIntOrInf: return "an integer or inf";
    case ArgType::kFloat: return "a number";
    case ArgType::kBoolean: return "a boolean";
    case ArgType::kIntOrInterval: return "a number or an interval string";
    case ArgType::kNodeOrTag: return "a node number or a tag name";
    case ArgType::kAggFunc:
    case ArgType::kAggOrSeriesFunc: return "the name of an aggregation function";
    case ArgType::kAny: return "a value";
  }
  return "a value";
}

// An integral number inside int64's range ([-2^63, 2^63)), so kernels may convert it; a larger one
// (99999999999999999999) is not an integer argument here, and converting it would be undefined.
bool IsWhole(double v) {
  return v >= -9223372036854775808.0 && v < 9223372036854775808.0 && v == std::trunc(v);
}

bool Accepts(ArgType type, const Expr& e) {
  const bool series = e.kind == ExprKind::kPath || e.kind == ExprKind::kCall;
  switch (type) {
    case ArgType::kSeriesList:
    case ArgType::kSeriesLists: return series;
    case ArgType::kString:
    case ArgType::kTag:
    case ArgType::kInterval:
    case ArgType::kAggFunc:
    case ArgType::kAggOrSeriesFunc: return e.kind == ExprKind::kString;
    case ArgType::kInteger:
    case ArgType::kNode: return e.kind == ExprKind::kNumber && IsWhole(e.number);
    case ArgType::kIntOrInf:
      return (e.kind == ExprKind::kNumber && (IsWhole(e.number) || std::isinf(e.number))) ||
             (e.kind == ExprKind::kString && e.text == "inf");
    case ArgType::kFloat: return e.kind == ExprKind::kNumber;
    case ArgType::kBoolean: return e.kind == ExprKind::kBool || e.kind == ExprKind::kNumber;
    case ArgType::kIntOrInterval:
      return e.kind == ExprKind::kNumber || e.kind == ExprKind::kString;
    case ArgType::kNodeOrTag:
      return (e.kind == ExprKind::kNumber && IsWhole(e.number)) || e.kind == ExprKind::kString;
    case ArgType::kAny: return true;
  }
  return false;
}

class Binder {
 public:
  explicit Binder(const Registry& registry) : registry_(registry) {}

  Result<std::unique_ptr<BoundExpr>> Bind(const Expr& e) {
    auto out = std::make_unique<BoundExpr>();
    out->column = e.column;
    switch (e.kind) {
      case ExprKind::kPath:
        out->kind = BoundExpr::Kind::kPath;
        out->text = e.text;
        out->matcher = NameMatcher::CompilePath(e.text);
        return out;
      case ExprKind::kString:
        out->kind = BoundExpr::Kind::kString;
        out->text = e.text;
        return out;
      case ExprKind::kNumber:
        out->kind = BoundExpr::Kind::kNumber;
        out->number = e.number;
        out->is_integer = e.is_integer;
        return out;
      case ExprKind::kBool:
        out->kind = BoundExpr::Kind::kBool;
        out->boolean = e.boolean;
        return out;
      case ExprKind::kNone: out->kind = BoundExpr::Kind::kNone; return out;
      case ExprKind::kCall: break;
    }
    return BindCall(e, std::move(out));
  }

 private:
  Result<std::unique_ptr<BoundExpr>> BindCall(const Expr& e, std::unique_ptr<BoundExpr> out) {
    const FunctionSpec* fn = registry_.Find(e.text);
    if (fn == nullptr) {
      return InvalidArgument("unknown function '{}' at column {}", e.text, e.column);
    }
    out->kind = BoundExpr::Kind::kCall;
    out->function = fn;
    const auto& params = fn->params;
    const bool variadic = !params.empty() && params.back().multiple;
    const size_t fixed = variadic ? params.size() - 1 : params.size();
    out->fixed_params = fixed;

    // Which expression fills each parameter slot (variadic ones appended after `fixed`).
    std::vector<const Expr*> slots(fixed, nullptr);
    std::vector<int> slot_columns(fixed, 0);
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i < fixed) {
        slots[i] = e.args[i].get();
      } else if (variadic) {
        slots.push_back(e.args[i].get());
      } else {
        return InvalidArgument("{}: takes at most {} argument{}, got {} at column {}", fn->name,
                               fixed, fixed == 1 ? "" : "s", e.args.size(), e.args[i]->column);
      }
    }
    for (const NamedArg& named : e.named_args) {
      auto it = std::find_if(params.begin(), params.end(),
                             [&](const ParamSpec& p) { return p.name == named.name; });
      if (it == params.end()) {
        return InvalidArgument("{}: no parameter named '{}' at column {}", fn->name, named.name,
                               named.column);
      }
      const size_t index = static_cast<size_t>(it - params.begin());
      if (it->multiple) {
        return InvalidArgument("{}: '{}' takes positional arguments only, at column {}", fn->name,
                               named.name, named.column);
      }
      if (slots[index] != nullptr) {
        return InvalidArgument("{}: argument '{}' given twice, at column {}", fn->name,
                               named.name, named.column);
      }
      slots[index] = named.value.get();
    }
    for (size_t i = 0; i < slots.size(); ++i) {
      const ParamSpec& p = params[std::min(i, params.size() - 1)];
      const Expr* arg = slots[i];
      if (arg == nullptr || arg->kind == ExprKind::kNone) {
        if (p.required && (i < fixed || i == fixed)) {
          return InvalidArgument("{}: argument {} ({}) is required{}", fn->name, i + 1, p.name,
                                 arg ? fmt::format(", got None at column {}", arg->column)
                                     : fmt::format(", in the call at column {}", e.column));
        }
        out->args.push_back(nullptr);
        continue;
      }
      if (!Accepts(p.type, *arg)) {
        return InvalidArgument("{}: argument {} ({}) must be {}, got {} at column {}", fn->name,
                               i + 1, p.name, Expected(p.type), Describe(*arg), arg->column);
      }
      if ((p.type == ArgType::kAggFunc || p.type == ArgType::kAggOrSeriesFunc) &&
          !p.options.empty()) {
        std::string_view v = arg->text;
        if (p.type == ArgType::kAggOrSeriesFunc && v.ends_with("Series")) {
          v.remove_suffix(6);
        }
        if (std::find(p.options.begin(), p.options.end(), v) == p.options.end()) {
          std::string options;
          for (const auto& o : p.options) options += (options.empty() ? "" : ", ") + o;
          return InvalidArgument("{}: argument {} ({}) must be one of {}, got '{}' at column {}",
                                 fn->name, i + 1, p.name, options, arg->text, arg->column);
        }
      }
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<BoundExpr> bound, Bind(*arg));
      out->args.push_back(std::move(bound));
    }
    if (variadic && params.back().required && out->args.size() <= fixed) {
      return InvalidArgument("{}: argument {} ({}) is required, in the call at column {}",
                             fn->name, fixed + 1, params.back().name, e.column);
    }
    return out;
  }

  const Registry& registry_;
};

}  // namespace

Result<std::unique_ptr<BoundExpr>> Bind(const Expr& expr, const Registry& registry) {
  return Binder(registry).Bind(expr);
}

}  // namespace sluice::expr
