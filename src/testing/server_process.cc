#include "testing/server_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "testing/subprocess.h"

#ifndef SLUICE_BINARY_PATH
#error "SLUICE_BINARY_PATH must be defined by the build"
#endif

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kReadyPrefix = "sluice listening on http://";

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/sluice-test-XXXXXX", base && *base ? base : "/tmp");
  if (::mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string SluiceBinaryPath() {
  const char* env = std::getenv("SLUICE_BINARY");
  if (env && *env) return env;
  return SLUICE_BINARY_PATH;
}

uint64_t RaiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

// Collects the server's stdout after the ready line on a background thread, so that a chatty server
// never blocks on a full pipe.
struct ServerProcess::StdoutDrain {
  int fd = -1;
  std::mutex mu;
  std::string text;
  std::thread thread;

  void Run() {
    thread = std::thread([this] {
      char buf[4096];
      while (true) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::lock_guard<std::mutex> lock(mu);
        text.append(buf, static_cast<size_t>(n));
      }
    });
  }
  ~StdoutDrain() {
    if (thread.joinable()) thread.join();
    if (fd >= 0) ::close(fd);
  }
};

std::unique_ptr<ServerProcess> ServerProcess::Start(const ServerConfig& config,
                                                    std::string* error) {
  std::string binary = config.command.empty() ? SluiceBinaryPath() : config.command.front();
  if (::access(binary.c_str(), X_OK) != 0) {
    *error = fmt::format("sluice binary not found at {} (build the `sluice` target first)", binary);
    return nullptr;
  }
  ::signal(SIGPIPE, SIG_IGN);  // tests write to sockets the server may have closed

  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->temp_dir_ = MakeTempDir();
  if (server->temp_dir_.empty()) {
    *error = fmt::format("mkdtemp: {}", std::strerror(errno));
    return nullptr;
  }
  std::string data_dir = server->temp_dir_ + "/data";
  ::mkdir(data_dir.c_str(), 0700);

  std::vector<std::string> args = {binary, "serve", "--listen", config.listen, "--data", data_dir};
  if (config.demo) args.push_back("--demo");
  if (!config.config_toml.empty()) {
    std::string path = server->temp_dir_ + "/sluice.toml";
    std::ofstream(path, std::ios::binary) << config.config_toml;
    args.push_back("--config");
    args.push_back(path);
  }
  args.insert(args.end(), config.extra_args.begin(), config.extra_args.end());
  if (!config.command.empty()) args = config.command;

  std::string stderr_path = server->temp_dir_ + "/stderr.log";
  int stderr_fd = ::open(stderr_path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  int pipe_fds[2];
  if (stderr_fd < 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *error = fmt::format("creating stdio for the server: {}", std::strerror(errno));
    if (stderr_fd >= 0) ::close(stderr_fd);
    return nullptr;
  }
  server->pid_ = Spawn({.args = args, .env = config.env, .stdout_fd = pipe_fds[1],
                        .stderr_fd = stderr_fd},
                       error);
  ::close(pipe_fds[1]);
  ::close(stderr_fd);
  server->drain_ = std::make_unique<StdoutDrain>();
  server->drain_->fd = pipe_fds[0];
  if (server->pid_ < 0) return nullptr;

  // Read stdout until the ready line, the process exits, or the deadline passes.
  auto deadline = Clock::now() + std::chrono::milliseconds(config.ready_timeout_ms);
  std::string out;
  std::string failure;
  while (true) {
    size_t line_start = out.find(kReadyPrefix);
    if (line_start != std::string::npos && out.find('\n', line_start) != std::string::npos) {
      if (config.signal_when_ready != 0) ::kill(server->pid_, config.signal_when_ready);
      size_t line_end = out.find('\n', line_start);
      server->ready_line_ = out.substr(line_start, line_end - line_start);
      break;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    int left = RemainingMs(deadline);
    int rc = left > 0 ? ::poll(&p, 1, left) : 0;
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      failure = fmt::format("no \"{}\" line within {} ms", kReadyPrefix, config.ready_timeout_ms);
      break;
    }
    char buf[4096];
    ssize_t n = ::read(pipe_fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failure = "the server closed stdout (exited?) before printing its ready line";
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  server->drain_->text = out;

  if (failure.empty()) {
    std::string_view rest = std::string_view(server->ready_line_).substr(kReadyPrefix.size());
    while (!rest.empty() && (rest.back() == '\r' || rest.back() == ' ')) rest.remove_suffix(1);
    size_t colon = rest.rfind(':');
    std::string_view host = colon == std::string_view::npos ? "" : rest.substr(0, colon);
    std::string_view port = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    int port_value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || port_value > 65535) {
        port_value = -1;
        break;
      }
      port_value = port_value * 10 + (c - '0');
    }
    if (host.empty() || port.empty() || port_value <= 0 || port_value > 65535) {
      failure = fmt::format("cannot parse host:port from ready line \"{}\"", server->ready_line_);
    } else {
      server->host_ = std::string(host);
      server->port_ = static_cast<uint16_t>(port_value);
    }
  }
  if (!failure.empty()) {
    server->Signal(SIGKILL);
    server->WaitExit(5'000);
    *error =
        fmt::format("starting `{}`: {}; exit code {}; stdout: {}; stderr: {}", fmt::join(args, " "),
                    failure, server->exit_code_, out, server->StderrText());
    return nullptr;
  }
  server->drain_->Run();
  return server;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exited_ = true;
  }
  drain_.reset();
  if (!temp_dir_.empty() && std::getenv("SLUICE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

void ServerProcess::Reap(int status) {
  exited_ = true;
  exit_code_ = DecodeWaitStatus(status);
}

bool ServerProcess::Alive() {
  if (exited_ || pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) Reap(status);
  return !exited_;
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

int ServerProcess::WaitExit(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Alive()) {
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

int ServerProcess::Stop(int timeout_ms) {
  if (exited_) return exit_code_;
  Signal(SIGTERM);
  int code = WaitExit(timeout_ms);
  if (code == -1 && !exited_) {
    Signal(SIGKILL);
    WaitExit(10'000);
    return -1;
  }
  return code;
}

std::string ServerProcess::StderrText() const { return ReadWholeFile(temp_dir_ + "/stderr.log"); }

std::string ServerProcess::StdoutText() const {
  if (!drain_) return "";
  std::lock_guard<std::mutex> lock(drain_->mu);
  return drain_->text;
}

int ServerProcess::OpenFdCount() const {
  if (pid_ <= 0 || exited_) return -1;
  std::error_code ec;
  int count = 0;
  for (auto it = std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid_), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return ec ? -1 : count;
}

ProcessResult RunSluice(const std::vector<std::string>& args, int timeout_ms) {
  ProcessResult result;
  std::vector<std::string> argv = {SluiceBinaryPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  if (::access(argv[0].c_str(), X_OK) != 0) {
    result.stderr_text = fmt::format("sluice binary not found at {}", argv[0]);
    return result;
  }
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  std::string error;
  pid_t pid = Spawn({.args = argv, .stdout_fd = out_pipe[1], .stderr_fd = err_pipe[1]}, &error);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
  int open_count = pid > 0 ? 2 : 0;
  while (open_count > 0) {
    int left = RemainingMs(deadline);
    if (left == 0) {
      result.timed_out = true;
      break;
    }
    int rc = ::poll(fds, 2, left);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (pid <= 0) {
    result.stderr_text += error;
    return result;
  }
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result.exit_code = DecodeWaitStatus(status);
      break;
    }
    if (result.timed_out || RemainingMs(deadline) == 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return result;
}

TempDir::TempDir() : path_(MakeTempDir()) {}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::WriteFile(const std::string& name, const std::string& text) const {
  std::string path = path_ + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace sluice::testing
