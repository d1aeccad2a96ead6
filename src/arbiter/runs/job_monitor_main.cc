// arbiter-job-monitor STATUS_FILE PROGRAM [ARGS...]: runs a local job as its
// child and, when it ends, writes how it ended to STATUS_FILE ("exit N" or
// "signal N"), then ends the same way. The local runtime starts every job
// through it, so an arbiter that re-attaches to a job after a restart (the
// job is not its child, so it cannot wait for its status) still learns the
// job's exit status. It ignores SIGINT, SIGTERM and SIGHUP sent to the job's
// process group (the job gets them and decides), so it outlives the job;
// SIGKILL takes both. Plain POSIX, no Arbiter code: it must be small and start fast.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: arbiter-job-monitor STATUS_FILE PROGRAM [ARGS...]\n");
    return 2;
  }
  const std::string status_file = argv[1];
  // The group's signals are held until this process ignores them, so none can
  // end it before the job; the job starts with the mask and dispositions it inherited.
  sigset_t group_signals, old_mask;
  sigemptyset(&group_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&group_signals, sig);
  sigprocmask(SIG_BLOCK, &group_signals, &old_mask);
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "arbiter-job-monitor: fork: %s\n", strerror(errno));
    return 127;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execvp(argv[2], argv + 2);
    fprintf(stderr, "arbiter-job-monitor: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, SIG_IGN);
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  int st = 0;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  std::string text = WIFSIGNALED(st) ? "signal " + std::to_string(WTERMSIG(st)) + "\n"
                                     : "exit " + std::to_string(WEXITSTATUS(st)) + "\n";
  // Written whole, then renamed: a reader sees all of it or nothing.
  const std::string tmp = status_file + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t n = write(fd, text.data(), text.size());
    close(fd);
    if (n == static_cast<ssize_t>(text.size())) rename(tmp.c_str(), status_file.c_str());
  }
  if (WIFSIGNALED(st)) {
    // End by the same signal, without a core file of our own.
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(WTERMSIG(st), SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, WTERMSIG(st));
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    raise(WTERMSIG(st));
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
