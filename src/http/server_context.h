// State shared by the HTTP server and its sessions (internal to the HTTP core).
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <mutex>
#include <string>
#include <unordered_set>

#include "http/auth.h"
#include "http/cors.h"
#include "http/handler.h"
#include "http/server.h"

namespace sluice::http {

class Session;

// Owned by Server::Impl, which keeps it alive until every session has been destroyed.
struct ServerContext {
  ServerContext(ServerOptions server_options, Router server_router);

  const ServerOptions options;
  const Router router;
  const Authenticator auth;
  const CorsPolicy cors;
  const std::string body_limit_message;  // "request body exceeds the N-byte limit"
  const std::string header_limit_message;
  // "accept, content-type, authorization, x-api-key": preflight default for Allow-Headers.
  const std::string default_allow_headers;

  // Runs handlers of blocking routes; set by Server::Start before the first session exists.
  boost::asio::thread_pool* workers = nullptr;
  // Set once by Stop(): sessions stop keeping connections alive and new ones are refused.
  std::atomic<bool> stopping{false};
  // Sessions that have received part of a request and not yet written its response.
  std::atomic<int> busy_sessions{0};

  std::mutex sessions_mutex;
  std::unordered_set<Session*> sessions;  // guarded by sessions_mutex; live sessions
};

}  // namespace sluice::http
