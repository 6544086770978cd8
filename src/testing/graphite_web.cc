#include "testing/graphite_web.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "testing/subprocess.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kPython = "/usr/bin/python3";

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of `key=` in a line of space-separated key=value pairs, or "".
std::string LineValue(std::string_view line, std::string_view key) {
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = line.size();
    std::string_view word = line.substr(pos, end - pos);
    if (word.size() > key.size() && word.starts_with(key) && word[key.size()] == '=') {
      return std::string(word.substr(key.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

std::string Describe(const ProcessResult& r) {
  return fmt::format("exit code {}{}\n--- stdout ---\n{}\n--- stderr ---\n{}", r.exit_code,
                     r.timed_out ? " (timed out, killed)" : "", r.stdout_text, r.stderr_text);
}

}  // namespace

ProcessResult RunCommand(const std::vector<std::string>& args, int timeout_ms) {
  ProcessResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.stderr_text = fmt::format("pipe: {}", std::strerror(errno));
    return result;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.stderr_text = fmt::format("pipe: {}", std::strerror(errno));
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  std::string error;
  pid_t pid = Spawn(
      {.args = args, .stdout_fd = out_pipe[1], .stderr_fd = err_pipe[1], .own_group = true},
      &error);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.stderr_text = error;
    return result;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
  bool exited = false;
  int status = 0;
  // Reads until the child has exited and both pipes are drained; a background grandchild that
  // kept a pipe open does not hold us past the child's exit.
  while (true) {
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (fds[0].fd < 0 && fds[1].fd < 0 && exited) break;
    int left = RemainingMs(deadline);
    if (left == 0) {
      result.timed_out = true;
      break;
    }
    int rc = ::poll(fds, 2, exited ? 0 : std::min(left, 50));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      if (exited) break;  // nothing more buffered
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (result.timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    if (!exited) ::waitpid(pid, &status, 0);
    result.exit_code = -1;
    return result;
  }
  result.exit_code = DecodeWaitStatus(status);
  return result;
}

bool GraphiteWeb::Available(const std::string& tools_dir, std::string* why) {
  const std::string fix =
      "graphite-web 1.1.8 is the reference of this test; install it with "
      "`scripts/install-deps.sh test` (Debian packages graphite-web, python3-whisper, gunicorn)";
  if (::access(kPython, X_OK) != 0) {
    *why = fmt::format("{} not found: {}", kPython, fix);
    return false;
  }
  for (const char* script : {"serve.sh", "make_whisper.py"}) {
    std::string path = tools_dir + "/" + script;
    if (::access(path.c_str(), R_OK) != 0) {
      *why = fmt::format("{} not found (tools/graphite of the repository)", path);
      return false;
    }
  }
  ProcessResult r = RunCommand({kPython, "-c", "import graphite, django, whisper"}, 30'000);
  if (r.exit_code != 0) {
    *why = fmt::format("{}. ({} -c 'import graphite, django, whisper' {})", fix, kPython,
                       r.timed_out ? "timed out" : "said: " + r.stderr_text);
    return false;
  }
  return true;
}

bool GraphiteWeb::MakeWhisper(const std::string& tools_dir, const std::string& whisper_dir,
                              const std::string& lp_path, std::string* error) {
  ProcessResult r = RunCommand(
      {kPython, tools_dir + "/make_whisper.py", whisper_dir, "--influx", lp_path}, 120'000);
  if (r.exit_code != 0) {
    *error = "make_whisper.py failed: " + Describe(r);
    return false;
  }
  return true;
}

std::unique_ptr<GraphiteWeb> GraphiteWeb::Start(const std::string& tools_dir,
                                                const std::string& whisper_dir,
                                                const std::string& state_dir, int workers,
                                                std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    *error = fmt::format("cannot create {}: {}", state_dir, ec.message());
    return nullptr;
  }
  std::unique_ptr<GraphiteWeb> g(new GraphiteWeb());
  g->tools_dir_ = tools_dir;
  g->state_dir_ = state_dir;
  // The watchdog, started first so no moment is uncovered: SIGTERM reaches it when this thread
  // exits (a killed test), and it passes the SIGTERM on to gunicorn's master, whose pid serve.sh
  // writes to STATE/pid as soon as it has started it. Stop() kills the watchdog.
  const std::string script =
      "trap 'p=$(cat \"$1/pid\" 2>/dev/null) && kill -TERM \"$p\" 2>/dev/null; exit 0' TERM; "
      "while :; do sleep 1; done";
  std::string spawn_error;
  g->watchdog_pid_ =
      Spawn({.args = {"/bin/sh", "-c", script, "sluice-graphite-watchdog", state_dir},
             .death_signal = SIGTERM},
            &spawn_error);
  if (g->watchdog_pid_ < 0) {
    *error = "cannot start the watchdog: " + spawn_error;
    return nullptr;
  }
  ProcessResult r = RunCommand({"/bin/bash", tools_dir + "/serve.sh", "start", whisper_dir,
                                "--state", state_dir, "--workers", std::to_string(workers)},
                               90'000);
  std::string pid_text = LineValue(r.stdout_text, "pid");
  std::string port_text = LineValue(r.stdout_text, "port");
  if (r.exit_code != 0 || pid_text.empty() || port_text.empty()) {
    *error = "tools/graphite/serve.sh start failed: " + Describe(r) + "\n--- server.log ---\n" +
             ReadFileOrEmpty(state_dir + "/server.log");
    // serve.sh stops what it started when it gives up; a timeout killed its process group.
    g->stopped_ = true;
    g->KillWatchdog();
    return nullptr;
  }
  g->pid_ = static_cast<pid_t>(std::stol(pid_text));
  g->port_ = static_cast<uint16_t>(std::stoi(port_text));
  return g;
}

std::string GraphiteWeb::LogText() const {
  if (stopped_) return "";
  return ReadFileOrEmpty(state_dir_ + "/server.log") +
         ReadFileOrEmpty(state_dir_ + "/log/exception.log");
}

void GraphiteWeb::Stop() {
  if (stopped_) return;
  stopped_ = true;
  ProcessResult r = RunCommand({"/bin/bash", tools_dir_ + "/serve.sh", "stop", state_dir_}, 30'000);
  if (r.exit_code != 0 && pid_ > 0 && ::kill(pid_, 0) == 0) {
    ::kill(pid_, SIGKILL);
  }
  KillWatchdog();
}

void GraphiteWeb::KillWatchdog() {
  if (watchdog_pid_ <= 0) return;
  ::kill(watchdog_pid_, SIGKILL);
  int status = 0;
  ::waitpid(watchdog_pid_, &status, 0);
  watchdog_pid_ = -1;
}

GraphiteWeb::~GraphiteWeb() { Stop(); }

}  // namespace sluice::testing
