#include "http/handler.h"

#include <algorithm>

#include "common/json_writer.h"

namespace sluice::http {
namespace {

// True when `path` ends with the segments of `suffix`, i.e. with "/" + suffix.
bool EndsWithSegments(std::string_view path, std::string_view suffix) {
  if (suffix.empty() || path.size() <= suffix.size()) return false;
  return path.ends_with(suffix) && path[path.size() - suffix.size() - 1] == '/';
}

bool Accepts(const Router::Route& route, Method method) {
  for (Method m : route.methods) {
    if (m == method || (method == Method::kHead && m == Method::kGet)) return true;
  }
  return false;
}

// Strips leading and trailing '/' so that "/metrics/find/" and "metrics/find" are the same route.
std::string TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kPatch:
      return "PATCH";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Response JsonError(unsigned status, std::string_view message, std::string_view error) {
  Response response;
  response.status = status;
  response.body.reserve(message.size() + error.size() + 32);
  response.body.append("{\"message\":");
  AppendJsonString(message, &response.body);
  response.body.append(",\"error\":");
  AppendJsonString(error, &response.body);
  response.body.push_back('}');
  return response;
}

std::string NormalizePath(std::string_view target, std::string* query) {
  // Absolute-form targets ("http://host:port/path") are legal in HTTP/1.1; keep only the path.
  if (target.starts_with("http://") || target.starts_with("https://")) {
    size_t authority = target.find("//") + 2;
    size_t slash = target.find_first_of("/?", authority);
    target = slash == std::string_view::npos ? std::string_view() : target.substr(slash);
  }
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t question = target.find('?');
  if (query != nullptr) {
    if (question == std::string_view::npos) {
      query->clear();
    } else {
      query->assign(target.substr(question + 1));
    }
  }
  if (question != std::string_view::npos) target = target.substr(0, question);

  std::string path;
  path.reserve(target.size() + 1);
  path.push_back('/');
  for (char c : target) {
    if (c == '/' && path.back() == '/') continue;
    path.push_back(c);
  }
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

void Router::Add(Route route) {
  route.suffix = TrimSlashes(route.suffix);
  routes_.push_back(std::move(route));
}

void Router::SetHealth(Handler handler) { health_ = std::move(handler); }

void Router::SetBasePath(std::string base_path) {
  base_path_ = NormalizePath(base_path, nullptr);
  if (base_path_ == "/") base_path_.clear();
}

Router::Match Router::Find(Method method, std::string_view normalized_path) const {
  Match match;
  std::string_view path = normalized_path;
  if (!base_path_.empty()) {
    if (path == base_path_) {
      if (health_) {
        match.health = &health_;
      } else {
        match.error = 404;
      }
      return match;
    }
    if (!path.starts_with(base_path_) || path.size() <= base_path_.size() ||
        path[base_path_.size()] != '/') {
      match.error = 404;
      return match;
    }
    // Keep the '/' so that a route must start at a segment boundary below the base path.
    path.remove_prefix(base_path_.size());
  }

  // Longest matching suffix; several routes may share a suffix with different methods.
  size_t best_length = 0;
  const Route* accepted = nullptr;
  bool any = false;
  for (const Route& route : routes_) {
    if (!EndsWithSegments(path, route.suffix)) continue;
    if (route.suffix.size() > best_length) {
      best_length = route.suffix.size();
      accepted = nullptr;
    } else if (route.suffix.size() < best_length) {
      continue;
    }
    any = true;
    if (accepted == nullptr && Accepts(route, method)) accepted = &route;
  }
  if (accepted != nullptr) {
    match.route = accepted;
    return match;
  }
  if (any) {
    // Union of the methods of every route with the winning suffix, in a fixed order.
    bool allowed[static_cast<int>(Method::kOther) + 1] = {};
    for (const Route& route : routes_) {
      if (route.suffix.size() != best_length || !EndsWithSegments(path, route.suffix)) continue;
      for (Method m : route.methods) {
        allowed[static_cast<int>(m)] = true;
        if (m == Method::kGet) allowed[static_cast<int>(Method::kHead)] = true;
      }
    }
    for (int i = 0; i < static_cast<int>(Method::kOther); ++i) {
      if (!allowed[i]) continue;
      if (!match.allow.empty()) match.allow.append(", ");
      match.allow.append(MethodName(static_cast<Method>(i)));
    }
    match.error = 405;
    return match;
  }

  if (base_path_.empty() && health_ &&
      (normalized_path == "/" || method == Method::kGet || method == Method::kHead)) {
    match.health = &health_;
    return match;
  }
  match.error = 404;
  return match;
}

}  // namespace sluice::http
