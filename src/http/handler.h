// The contract between the HTTP core and the application: a request as the application sees it,
// the response it returns, and the route table that dispatches between them.
//
// The HTTP core (http/server.h) owns sockets, parsing, limits, timeouts, auth, CORS and compression;
// handlers only see a fully read, size-checked, authenticated request and return a response.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kOther };
std::string_view MethodName(Method method);

// A header lookup, case-insensitive on the name; "" when absent.
using HeaderLookup = std::function<std::string_view(std::string_view name)>;

struct Request {
  Method method = Method::kGet;
  // Normalised: no query string, repeated '/' collapsed, no trailing '/' (except "/" itself).
  std::string_view path;
  // Raw query string after '?', without the '?'; may be empty.
  std::string_view query;
  // The decoded body (chunked bodies already joined; gzip request bodies already inflated).
  std::string_view body;
  HeaderLookup header;
  std::string_view remote_address;
  // For handlers of blocking routes (run on the worker pool): becomes true when the client closes
  // its connection (or half-closes it) before the response is written, so a handler waiting on I/O
  // can give up; nobody will read its answer. Noticed within the server's sweep tick (at most
  // 250 ms). Null for handlers that run on an I/O thread. Valid for the duration of the call.
  const std::atomic<bool>* cancelled = nullptr;
};

struct Response {
  unsigned status = 200;
  std::string body;  // JSON unless content_type says otherwise
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

using Handler = std::function<Response(const Request&)>;

// A JSON error body: {"message": message, "error": error}.
Response JsonError(unsigned status, std::string_view message, std::string_view error);

// Routes by path suffix so that the server works under any mount prefix (PROTOCOL.md §1):
// a route "query" matches "/query", "/api/grafana/json/query" and "//x//query/"; a route
// "metrics/find" matches paths ending in those two segments. The longest matching suffix wins.
//
// Unmatched paths: when a base path is configured, only paths under it are served and the base
// path itself is the health route; otherwise GET/HEAD on any unmatched path, and any method on
// "/", go to the health route (mount prefixes are unknown), and other unmatched requests get 404.
// A matched route with a method it does not accept gets 405 with an Allow header. HEAD is accepted
// wherever GET is. OPTIONS never reaches the router (CORS preflight is answered by the core).
class Router {
 public:
  struct Route {
    std::string suffix;            // "query", "metrics/find"; no leading or trailing '/'
    std::vector<Method> methods;   // accepted methods
    Handler handler;
    bool blocking = false;         // run on the worker pool, not on an I/O thread
  };

  void Add(Route route);
  // The health route: "/" and mount prefixes (see above).
  void SetHealth(Handler handler);
  // "" (default) means any prefix; "/api/grafana/json" restricts to that prefix.
  void SetBasePath(std::string base_path);

  struct Match {
    const Route* route = nullptr;    // null: see `health` and `error`
    const Handler* health = nullptr;
    unsigned error = 0;              // 404 or 405 when nothing matched
    std::string allow;               // for 405: "GET, HEAD, POST"
  };
  Match Find(Method method, std::string_view normalized_path) const;

 private:
  std::vector<Route> routes_;
  Handler health_;
  std::string base_path_;
};

// Collapses repeated '/', strips the query string and a trailing '/'; "" becomes "/".
std::string NormalizePath(std::string_view target, std::string* query);

}  // namespace sluice::http
