#include "testing/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/subprocess.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kInstallHint =
    "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); the PostgreSQL tests need "
    "it: run scripts/install-deps.sh test";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `max_bytes` of `text`, for messages.
std::string Tail(const std::string& text, size_t max_bytes = 4000) {
  return text.size() <= max_bytes ? text : "…" + text.substr(text.size() - max_bytes);
}

// Runs `args` as `uid` (when >= 0) in `cwd` with stdout and stderr appended to `log_path`.
pid_t SpawnLogged(const std::vector<std::string>& args, const std::string& log_path,
                  const std::string& cwd, int uid, int gid, std::string* error) {
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    *error = fmt::format("cannot open {}: {}", log_path, std::strerror(errno));
    return -1;
  }
  if (uid >= 0) (void)::fchown(log, static_cast<uid_t>(uid), static_cast<gid_t>(gid));
  pid_t pid = Spawn({.args = args, .stdout_fd = log, .stderr_fd = log, .cwd = cwd, .uid = uid,
                     .gid = gid},
                    error);
  ::close(log);
  return pid;
}

// Waits up to `timeout_ms` for `pid`; returns its exit code (128+N when killed by signal N), or
// -1 when it is still running.
int WaitPid(pid_t pid, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return 0;
    }
    if (r < 0 && errno != EINTR) return 0;  // not our child any more: nothing to wait for
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Runs a command to completion (at most `timeout_ms`); true when it exited with 0.
bool RunToCompletion(const std::vector<std::string>& args, const std::string& log_path,
                     const std::string& cwd, int uid, int gid, int timeout_ms,
                     std::string* error) {
  pid_t pid = SpawnLogged(args, log_path, cwd, uid, gid, error);
  if (pid < 0) return false;
  int code = WaitPid(pid, timeout_ms);
  if (code == -1) {
    ::kill(pid, SIGKILL);
    WaitPid(pid, 5000);
    *error = fmt::format("{} did not finish within {} ms", args[0], timeout_ms);
    return false;
  }
  if (code != 0) {
    *error = fmt::format("{} failed (exit code {}): {}", args[0], code, Tail(ReadFile(log_path)));
    return false;
  }
  return true;
}

// A port that was free on 127.0.0.1 a moment ago (the server binds it shortly after).
uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

std::string FindPostgresBinDir() {
  std::error_code ec;
  std::vector<std::pair<int, std::string>> found;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb", ec) || !fs::exists(bin / "postgres", ec)) continue;
    int version = std::atoi(entry.path().filename().c_str());
    found.emplace_back(version, bin.string());
  }
  if (found.empty()) return "";
  std::sort(found.begin(), found.end());
  return found.back().second;
}

std::unique_ptr<PgCluster> PgCluster::Create(const Options& options, std::string* error) {
  std::unique_ptr<PgCluster> cluster(new PgCluster());
  cluster->bin_dir_ = FindPostgresBinDir();
  if (cluster->bin_dir_.empty()) {
    *error = kInstallHint;
    return nullptr;
  }
  if (!cluster->Initdb(options, error)) return nullptr;
  // The port was free when picked; another process may take it before the server binds it.
  for (int attempt = 0;; ++attempt) {
    std::string start_error;
    if (cluster->Start(&start_error)) break;
    if (attempt == 4 || cluster->LogText().find("could not bind") == std::string::npos) {
      *error = start_error;
      return nullptr;
    }
    cluster->port_ = FreeLoopbackPort();
    std::ofstream(cluster->data_dir_ + "/postgresql.auto.conf", std::ios::app)
        << "port = " << cluster->port_ << "\n";
  }
  cluster->database_ = options.database;
  cluster->dsn_ = cluster->DsnFor(options.database);
  std::vector<std::string> rows;
  if (!cluster->Exec(fmt::format("CREATE DATABASE \"{}\"", options.database), &rows, error,
                     "postgres")) {
    return nullptr;
  }
  return cluster;
}

bool PgCluster::Initdb(const Options& options, std::string* error) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/sluice-pg-XXXXXX", base && *base ? base : "/tmp");
  if (::mkdtemp(pattern.data()) == nullptr) {
    *error = fmt::format("cannot create a temporary directory {}: {}", pattern,
                         std::strerror(errno));
    return false;
  }
  dir_ = pattern;
  data_dir_ = dir_ + "/data";
  log_path_ = dir_ + "/server.log";
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      *error = fmt::format("running as root but there is no `postgres` user to run PostgreSQL as; {}",
                           "run scripts/install-deps.sh test (the postgresql package creates it)");
      return false;
    }
    run_uid_ = static_cast<int>(pw->pw_uid);
    run_gid_ = static_cast<int>(pw->pw_gid);
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      *error = fmt::format("cannot chown {} to postgres: {}", dir_, std::strerror(errno));
      return false;
    }
  }
  const std::string initdb_log = dir_ + "/initdb.log";
  if (!RunToCompletion({bin_dir_ + "/initdb", "-D", data_dir_, "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                       initdb_log, dir_, run_uid_, run_gid_, 120'000, error)) {
    return false;
  }
  port_ = FreeLoopbackPort();
  std::ofstream conf(data_dir_ + "/postgresql.auto.conf", std::ios::app);
  conf << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "max_connections = " << options.max_connections << "\n"
       << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
       << "shared_buffers = '128MB'\n"
       << "log_min_messages = warning\n";
  for (const std::string& line : options.settings) conf << line << "\n";
  conf.close();
  if (!conf) {
    *error = fmt::format("cannot write {}/postgresql.auto.conf", data_dir_);
    return false;
  }
  return true;
}

std::string PgCluster::DsnFor(std::string_view database) const {
  return fmt::format("host=127.0.0.1 port={} dbname={} user=postgres", port_, database);
}

bool PgCluster::Start(std::string* error) {
  if (pid_ > 0) return true;
  pid_ = SpawnLogged({bin_dir_ + "/postgres", "-D", data_dir_}, log_path_, dir_, run_uid_,
                     run_gid_, error);
  if (pid_ < 0) return false;
  return WaitReady(error);
}

bool PgCluster::WaitReady(std::string* error) {
  const std::string dsn = DsnFor("postgres") + " connect_timeout=2";
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    if (PQping(dsn.c_str()) == PQPING_OK) return true;
    int code = WaitPid(pid_, 0);
    if (code != -1) {
      pid_ = -1;
      *error = fmt::format("PostgreSQL exited with code {} while starting: {}", code,
                           Tail(LogText()));
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = fmt::format("PostgreSQL did not accept connections on port {} within 30 s: {}", port_,
                       Tail(LogText()));
  return false;
}

bool PgCluster::Stop(std::string* error, bool fast) {
  if (pid_ <= 0) return true;
  ::kill(pid_, fast ? SIGINT : SIGQUIT);
  if (WaitPid(pid_, 30'000) == -1) {
    ::kill(pid_, SIGKILL);
    WaitPid(pid_, 5000);
    pid_ = -1;
    *error = "PostgreSQL did not stop within 30 s; killed it";
    return false;
  }
  pid_ = -1;
  return true;
}

PgCluster::~PgCluster() {
  if (pid_ > 0) {
    ::kill(pid_, SIGQUIT);
    if (WaitPid(pid_, 10'000) == -1) {
      ::kill(pid_, SIGKILL);
      WaitPid(pid_, 5000);
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

bool PgCluster::Exec(std::string_view sql, std::vector<std::string>* rows, std::string* error,
                     std::string_view database) {
  rows->clear();
  std::string dsn = DsnFor(database.empty() ? std::string_view(database_) : database) +
                    " connect_timeout=10";
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = fmt::format("cannot connect with \"{}\": {}", dsn, PQerrorMessage(conn));
    PQfinish(conn);
    return false;
  }
  PGresult* result = PQexec(conn, std::string(sql).c_str());
  ExecStatusType status = PQresultStatus(result);
  bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok) {
    *error = fmt::format("{} failed: {}", sql.substr(0, 200), PQresultErrorMessage(result));
  } else if (status == PGRES_TUPLES_OK) {
    for (int r = 0; r < PQntuples(result); ++r) {
      std::string row;
      for (int c = 0; c < PQnfields(result); ++c) {
        if (c > 0) row.push_back('|');
        row.append(PQgetvalue(result, r, c), static_cast<size_t>(PQgetlength(result, r, c)));
      }
      rows->push_back(std::move(row));
    }
  }
  PQclear(result);
  PQfinish(conn);
  return ok;
}

bool PgCluster::RunSqlFile(const std::string& path, std::string* error,
                           std::string_view database) {
  const std::string log = dir_ + "/psql.log";
  std::error_code ec;
  fs::remove(log, ec);
  std::string dsn = DsnFor(database.empty() ? std::string_view(database_) : database);
  return RunToCompletion({bin_dir_ + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f",
                          fs::absolute(path).string()},
                         log, dir_, -1, -1, 300'000, error);
}

std::string PgCluster::LogText() const { return ReadFile(log_path_); }

}  // namespace sluice::testing
