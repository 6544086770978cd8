#include "expr/registry.h"

#include <cstdio>
#include <cstdlib>

namespace sluice::expr {

std::string_view ArgTypeName(ArgType type) {
  switch (type) {
    case ArgType::kSeriesList: return "seriesList";
    case ArgType::kSeriesLists: return "seriesLists";
    case ArgType::kString: return "string";
    case ArgType::kInteger: return "integer";
    case ArgType::kFloat: return "float";
    case ArgType::kBoolean: return "boolean";
    case ArgType::kInterval: return "interval";
    case ArgType::kIntOrInterval: return "intOrInterval";
    case ArgType::kNode: return "node";
    case ArgType::kNodeOrTag: return "nodeOrTag";
    case ArgType::kTag: return "tag";
    case ArgType::kAggFunc: return "aggFunc";
    case ArgType::kAggOrSeriesFunc: return "aggOrSeriesFunc";
    case ArgType::kIntOrInf: return "intOrInf";
    case ArgType::kAny: return "any";
  }
  return "any";
}

const Registry& Registry::Default() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    RegisterCombineFunctions(r);
    RegisterTransformFunctions(r);
    RegisterWindowFunctions(r);
    RegisterFilterFunctions(r);
    RegisterNamingFunctions(r);
    RegisterSpecialFunctions(r);
    return r;
  }();
  return *registry;
}

Status Registry::Add(FunctionSpec spec) {
  if (spec.name.empty() || spec.impl == nullptr) {
    return Internal("function spec '{}' has no name or no kernel", spec.name);
  }
  for (size_t i = 0; i < spec.params.size(); ++i) {
    const ParamSpec& p = spec.params[i];
    if (p.multiple && i + 1 != spec.params.size()) {
      return Internal("{}: variadic parameter '{}' is not the last", spec.name, p.name);
    }
    if (p.lazy && p.type != ArgType::kSeriesList) {
      return Internal("{}: lazy parameter '{}' is not a series list", spec.name, p.name);
    }
  }
  auto [it, inserted] = functions_.try_emplace(spec.name, nullptr);
  if (!inserted) return Internal("function '{}' registered twice", spec.name);
  it->second = std::make_unique<FunctionSpec>(std::move(spec));
  return Status::OK();
}

const FunctionSpec* Registry::Find(std::string_view name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : it->second.get();
}

std::vector<const FunctionSpec*> Registry::All() const {
  std::vector<const FunctionSpec*> out;
  out.reserve(functions_.size());
  for (const auto& [name, spec] : functions_) out.push_back(spec.get());
  return out;
}

void AddFunctionOrDie(Registry* registry, FunctionSpec spec) {
  const std::string name = spec.name;
  Status status = registry->Add(std::move(spec));
  if (!status.ok()) {
    std::fprintf(stderr, "registering function '%s': %s\n", name.c_str(),
                 status.ToString().c_str());
    std::abort();
  }
}

}  // namespace sluice::expr
