// Running the real `sluice` binary from tests.
//
// ServerProcess starts `sluice serve` on an ephemeral loopback port in a private temporary
// directory (data dir + optional config file), waits for its "sluice listening on http://HOST:PORT"
// line, and stops it with SIGTERM (or SIGKILL from the destructor if it is still running).
// RunSluice() runs the binary to completion for CLI tests. The child gets PR_SET_PDEATHSIG=SIGKILL,
// so a crashed test never leaves a server behind; the signal fires when the *thread* that started
// it exits, so start servers from the test's main thread (gtest runs tests, SetUpTestSuite and
// SetUp there).
//
// Not thread-safe: one ServerProcess is driven by one thread, though its port may be used by many.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

// Path of the binary under test: $SLUICE_BINARY if set, else the build tree's bin/sluice.
std::string SluiceBinaryPath();

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
uint64_t RaiseFileLimit();

struct ServerConfig {
  std::string listen = "127.0.0.1:0";
  bool demo = true;
  // TOML text; when non-empty it is written to <tmp>/sluice.toml and passed as --config.
  std::string config_toml;
  // Extra arguments appended after the standard ones.
  std::vector<std::string> extra_args;
  // How long to wait for the "listening on" line.
  int ready_timeout_ms = 15'000;
  // When non-zero, this signal is sent the instant the ready line has been read (before anything
  // else), to test that the server handles it from the moment it announces readiness.
  int signal_when_ready = 0;
  // When non-empty, the whole command line to run instead of `sluice serve …` (for programs built
  // on the library, such as examples/custom_source); `listen`, `demo` and `config_toml` are then
  // ignored. It must print the same ready line.
  std::vector<std::string> command;
  // Environment variables set for the child on top of the test's own ("SLUICE_PG_DSN", dsn).
  std::vector<std::pair<std::string, std::string>> env;
};

class ServerProcess {
 public:
  // Starts the server. On failure returns null and sets *error (including the server's stderr).
  static std::unique_ptr<ServerProcess> Start(const ServerConfig& config, std::string* error);

  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return port_; }
  // The host as printed: "127.0.0.1" or "::1" (brackets removed).
  const std::string& host() const { return host_; }
  // The full line the server printed, e.g. "sluice listening on http://127.0.0.1:41234".
  const std::string& ready_line() const { return ready_line_; }
  pid_t pid() const { return pid_; }
  const std::string& temp_dir() const { return temp_dir_; }

  // True while the process has not exited.
  bool Alive();
  // Sends `sig` to the server.
  void Signal(int sig);
  // Waits up to `timeout_ms` for the process to exit; returns its exit code (128+N when killed by
  // signal N), or -1 if it is still running.
  int WaitExit(int timeout_ms);
  // SIGTERM, then waits up to `timeout_ms`; SIGKILL after that. Returns the exit code as WaitExit()
  // does, or -1 when it had to be killed.
  int Stop(int timeout_ms = 20'000);

  // Everything the server wrote to stderr so far, and to stdout after the ready line.
  std::string StderrText() const;
  std::string StdoutText() const;

  // Number of open file descriptors of the server process (from /proc), or -1.
  int OpenFdCount() const;

 private:
  ServerProcess() = default;
  void Reap(int status);

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  uint16_t port_ = 0;
  std::string host_;
  std::string ready_line_;
  std::string temp_dir_;
  struct StdoutDrain;
  std::unique_ptr<StdoutDrain> drain_;
};

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N; -1 when it timed out (it is then killed)
  std::string stdout_text;
  std::string stderr_text;
  bool timed_out = false;
};

// Runs `sluice <args...>` with stdin from /dev/null and waits up to `timeout_ms`.
ProcessResult RunSluice(const std::vector<std::string>& args, int timeout_ms = 15'000);

// A private temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `text` to <dir>/<name> and returns the full path.
  std::string WriteFile(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

}  // namespace sluice::testing
