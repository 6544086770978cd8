// A throwaway PostgreSQL cluster for tests and benchmarks.
//
// PgCluster::Create runs Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin, newest
// first): initdb in a private temporary directory, then the postmaster on a free 127.0.0.1 port with
// its unix socket in that directory, trust authentication for the `postgres` user, fsync off, and
// one database created. PostgreSQL refuses to run as root, so when the test runs as root every
// server-side binary runs as the `postgres` system user (setuid in the forked child, like
// `runuser -u postgres --`); otherwise as the current user. The postmaster is a direct child of
// the calling thread with PR_SET_PDEATHSIG=SIGKILL, so a crashed test leaves no server behind; start
// clusters from the test's main thread (gtest's SetUp/SetUpTestSuite run there).
//
// When PostgreSQL is not installed, Create fails with a message that says to run
// `scripts/install-deps.sh test`. Tests treat that as a failure, never a skip.
//
// Not thread-safe: one thread drives a cluster; its DSN may be used from any number of threads.
// The destructor stops the server (immediate shutdown) and removes the directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::testing {

class PgCluster {
 public:
  struct Options {
    std::string database = "sluice_test";  // created after the first start
    int max_connections = 60;
    // Extra postgresql.conf lines, e.g. "log_min_duration_statement = 0".
    std::vector<std::string> settings;
  };

  // Creates and starts a cluster. On failure returns null and sets *error (with initdb's or the
  // server's log when they failed).
  static std::unique_ptr<PgCluster> Create(const Options& options, std::string* error);
  static std::unique_ptr<PgCluster> Create(std::string* error) { return Create(Options(), error); }

  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // "host=127.0.0.1 port=N dbname=<database> user=postgres": a libpq connection string (TCP).
  const std::string& dsn() const { return dsn_; }
  // The same for another database of the cluster.
  std::string DsnFor(std::string_view database) const;
  uint16_t port() const { return port_; }
  const std::string& database() const { return database_; }
  const std::string& dir() const { return dir_; }

  // Stops the server: `fast` (SIGINT) rolls back and disconnects every client; otherwise
  // immediate (SIGQUIT). Waits until the postmaster has exited. False with *error on timeout.
  bool Stop(std::string* error, bool fast = true);
  // Starts it again on the same port and waits until it accepts connections (up to 30 s).
  bool Start(std::string* error);
  bool running() const { return pid_ > 0; }

  // Runs one SQL text (several statements allowed) in `database` (default: the cluster's) through
  // libpq and returns the last statement's rows, one string per row with columns separated by
  // '|' (NULL as ""). On failure returns false and sets *error.
  bool Exec(std::string_view sql, std::vector<std::string>* rows, std::string* error,
            std::string_view database = {});
  // Runs a .sql file with psql (ON_ERROR_STOP, quiet). On failure sets *error to psql's output.
  bool RunSqlFile(const std::string& path, std::string* error, std::string_view database = {});

  // The server's log so far (for failure messages).
  std::string LogText() const;
  // The bin directory in use, e.g. "/usr/lib/postgresql/15/bin".
  const std::string& bin_dir() const { return bin_dir_; }

 private:
  PgCluster() = default;
  bool Initdb(const Options& options, std::string* error);
  bool WaitReady(std::string* error);

  std::string bin_dir_;
  std::string dir_;       // the temporary directory (socket, log)
  std::string data_dir_;  // dir_/data
  std::string log_path_;
  std::string database_;
  std::string dsn_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;  // the postmaster, when running
  // The uid/gid the server runs as (postgres when we are root); -1 when unchanged.
  int run_uid_ = -1;
  int run_gid_ = -1;
};

// The newest /usr/lib/postgresql/<version>/bin that has initdb, or "" when none is installed.
std::string FindPostgresBinDir();

}  // namespace sluice::testing
