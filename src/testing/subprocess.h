// Spawn: the one fork/exec of the test helpers (the sluice server, PostgreSQL, graphite-web and
// the commands that set them up), and the small pieces every waiting loop around them needs.
// Test-only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

struct SpawnOptions {
  std::vector<std::string> args = {};  // args[0] is the program's absolute path
  // Added to (or replacing entries of) this process's environment.
  std::vector<std::pair<std::string, std::string>> env = {};
  int stdout_fd = -1;  // -1: /dev/null
  int stderr_fd = -1;  // -1: /dev/null
  std::string cwd = {};  // empty: this process's
  int uid = -1;        // >= 0 (as root): run as this user and group
  int gid = -1;
  int death_signal = SIGKILL;  // sent to the child when the spawning thread exits
  bool own_group = false;      // the child leads a new process group
};

// Forks and execs; stdin is /dev/null, every other descriptor is closed, signal dispositions
// and mask are reset. Returns the child's pid, or -1 with *error set. The caller waits for it.
pid_t Spawn(const SpawnOptions& options, std::string* error);

// A waitpid() status as an exit code: the code itself, 128 + N when killed by signal N, else -1.
int DecodeWaitStatus(int status);

// Milliseconds left until `deadline` (0 once it has passed), for poll() timeouts.
int RemainingMs(std::chrono::steady_clock::time_point deadline);

}  // namespace sluice::testing
