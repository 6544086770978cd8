#include "expr/docs.h"

#include <map>

#include <fmt/format.h>

namespace sluice::expr {
namespace {

// Table cells: no newlines, no unescaped pipes.
std::string Cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out.push_back(' ');
    } else if (c == '|') {
      out += "\\|";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string Signature(const FunctionSpec& spec) {
  std::string out = spec.name + "(";
  for (size_t i = 0; i < spec.params.size(); ++i) {
    const ParamSpec& p = spec.params[i];
    if (i > 0) out += ", ";
    if (p.multiple) out += "*";
    out += p.name;
    if (!p.required && !p.multiple) {
      out += "=" + (p.default_value.empty() ? std::string("None") : p.default_value);
    }
  }
  return out + ")";
}

std::string FunctionTableMarkdown(const Registry& registry) {
  std::map<std::string, std::vector<const FunctionSpec*>> groups;
  for (const FunctionSpec* spec : registry.All()) groups[spec->group].push_back(spec);
  std::string out;
  for (const auto& [group, specs] : groups) {
    out += fmt::format("### {}\n\n| function | what it does | example |\n|---|---|---|\n", group);
    for (const FunctionSpec* spec : specs) {
      out += fmt::format("| `{}` | {} | `{}` |\n", Cell(Signature(*spec)), Cell(spec->description),
                         Cell(spec->example));
    }
    out += "\n";
  }
  return out;
}

}  // namespace sluice::expr
