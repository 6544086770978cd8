#include "expr/evaluator.h"

namespace sluice::expr {
namespace {

const Value& NoneValue() {
  static const Value none;
  return none;
}

Status EvaluatePath(const BoundExpr& path, EvalContext& ctx, SeriesList* out) {
  const size_t before = out->size();
  static const std::vector<TagFilter> kNoFilters;
  SLUICE_RETURN_IF_ERROR(
      ctx.fetcher()->Fetch(path.matcher, kNoFilters, path.text, ctx.range(), ctx, out));
  const size_t found = out->size() - before;
  if (found > ctx.limits().max_series_per_path) {
    return ResourceExhausted("'{}' at column {} matches {} series, more than the limit of {}",
                             path.text, path.column, found, ctx.limits().max_series_per_path);
  }
  int64_t points = 0;
  for (size_t i = before; i < out->size(); ++i) points += static_cast<int64_t>((*out)[i].size());
  return ctx.ChargePoints(points);
}

Status ToValue(const BoundExpr& arg, EvalContext& ctx, Value* v) {
  v->column = arg.column;
  switch (arg.kind) {
    case BoundExpr::Kind::kPath:
    case BoundExpr::Kind::kCall:
      v->kind = Value::Kind::kSeries;
      return Evaluate(arg, ctx, &v->series);
    case BoundExpr::Kind::kString:
      v->kind = Value::Kind::kString;
      v->text = arg.text;
      return Status::OK();
    case BoundExpr::Kind::kNumber:
      v->kind = Value::Kind::kNumber;
      v->number = arg.number;
      v->is_integer = arg.is_integer;
      return Status::OK();
    case BoundExpr::Kind::kBool:
      v->kind = Value::Kind::kBool;
      v->boolean = arg.boolean;
      return Status::OK();
    case BoundExpr::Kind::kNone: v->kind = Value::Kind::kNone; return Status::OK();
  }
  return Status::OK();
}

Status EvaluateCall(const BoundExpr& call, EvalContext& ctx, SeriesList* out) {
  SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
  const FunctionSpec& fn = *call.function;
  std::vector<Value> fixed(call.fixed_params);
  std::vector<Value> rest;
  for (size_t i = 0; i < call.args.size(); ++i) {
    const BoundExpr* arg = call.args[i].get();
    const ParamSpec& p = fn.params[std::min(i, fn.params.size() - 1)];
    Value* v = i < call.fixed_params ? &fixed[i] : &rest.emplace_back();
    if (arg == nullptr || p.lazy) continue;
    SLUICE_RETURN_IF_ERROR(ToValue(*arg, ctx, v));
  }
  CallArgs args(call, std::move(fixed), std::move(rest));
  Status status = fn.impl(ctx, args, out);
  if (!status.ok() && status.message().find(" at column ") == std::string::npos) {
    return Status(status.code(), fmt::format("{} (in the call at column {})", status.message(),
                                             call.column));
  }
  return status;
}

}  // namespace

Status EvalContext::Evaluate(const BoundExpr& plan, const TimeRange& range, SeriesList* out) {
  const TimeRange saved = range_;
  range_ = range;
  Status status = expr::Evaluate(plan, *this, out);
  range_ = saved;
  return status;
}

Status EvalContext::ChargePoints(int64_t points) {
  points_ += points;
  if (points_ > limits_.max_points) {
    return ResourceExhausted(
        "the expression reads or computes more than {} points; narrow the range or the targets",
        limits_.max_points);
  }
  return Status::OK();
}

Status EvalContext::CheckDeadline() const {
  if (limits_.deadline != std::chrono::steady_clock::time_point::max() &&
      std::chrono::steady_clock::now() > limits_.deadline) {
    // A budget like the others (422), not a gateway timeout: the request asked for too much.
    return ResourceExhausted(
        "the expression ran past the query's time budget; narrow the range or the targets");
  }
  return Status::OK();
}

const Value& CallArgs::value(size_t i) const {
  if (i < values_.size()) return values_[i];
  if (i == values_.size() && !rest_.empty()) return rest_[0];
  return NoneValue();
}

Value& CallArgs::mutable_value(size_t i) {
  if (i < values_.size()) return values_[i];
  if (i == values_.size() && !rest_.empty()) return rest_[0];
  static thread_local Value scratch;
  scratch = Value();
  return scratch;
}

SeriesList& CallArgs::series(size_t i) { return mutable_value(i).series; }

double CallArgs::number(size_t i, double fallback) const {
  const Value& v = value(i);
  if (v.kind == Value::Kind::kNumber) return v.number;
  if (v.kind == Value::Kind::kBool) return v.boolean ? 1 : 0;
  return fallback;
}

int64_t CallArgs::integer(size_t i, int64_t fallback) const {
  const Value& v = value(i);
  if (v.kind == Value::Kind::kNumber && std::isfinite(v.number) && std::fabs(v.number) < 9e18) {
    return static_cast<int64_t>(v.number);
  }
  return fallback;
}

std::string_view CallArgs::string(size_t i, std::string_view fallback) const {
  const Value& v = value(i);
  return v.kind == Value::Kind::kString ? std::string_view(v.text) : fallback;
}

bool CallArgs::boolean(size_t i, bool fallback) const {
  const Value& v = value(i);
  if (v.kind == Value::Kind::kBool) return v.boolean;
  if (v.kind == Value::Kind::kNumber) return v.number != 0;
  return fallback;
}

const BoundExpr* CallArgs::plan(size_t i) const {
  return i < call_.args.size() ? call_.args[i].get() : nullptr;
}

std::vector<Value>& CallArgs::rest() { return rest_; }

SeriesList CallArgs::ConcatRest() {
  SeriesList out;
  for (Value& v : rest_) {
    for (auto& s : v.series) out.push_back(std::move(s));
    v.series.clear();
  }
  return out;
}

Status Evaluate(const BoundExpr& plan, EvalContext& ctx, SeriesList* out) {
  switch (plan.kind) {
    case BoundExpr::Kind::kPath: return EvaluatePath(plan, ctx, out);
    case BoundExpr::Kind::kCall: return EvaluateCall(plan, ctx, out);
    default:
      return InvalidArgument("expected a series list at column {}, got a literal", plan.column);
  }
}

}  // namespace sluice::expr
