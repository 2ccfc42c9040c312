/* SPDX-License-Identifier: MIT */
/* Which process is a gateway: the pid file each gateway holds locked next to its journal, and the checks
 * `hedgetrig kill --pid` makes before it signals a process (the lock, /proc, PID reuse). */
#define _GNU_SOURCE /* F_OFD_SETLK, O_PATH-free readlink on /proc */
#include "gw_process.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PID_FILE_MAGIC "hedgetrig-gateway"

/* The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or 0 when unknown. Together
 * with the pid it names one process: a pid reused later has another start time. */
static unsigned long long process_start_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p)
        return 0;
    unsigned long long start = 0;
    /* After ") ": state is field 3; starttime is field 22, i.e. the 20th after the state. */
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (field == 22)
        start = strtoull(p, NULL, 10);
    return start;
}

/* Takes an open-file-description write lock on the whole file without waiting. 0, or -1 with errno. */
static int lock_fd(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_OFD_SETLK, &fl);
}

/* True when some open file description holds a write lock on the file open at fd (ours would not count). */
static bool is_locked(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

/* Reads "hedgetrig-gateway PID START" from an open pid file. true when it has that form. */
static bool read_pid_file(int fd, int *pid, unsigned long long *start)
{
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char magic[32];
    return sscanf(buf, "%31s %d %llu", magic, pid, start) == 3 && strcmp(magic, PID_FILE_MAGIC) == 0 && *pid > 0;
}

int gw_pid_file_acquire(const char *journal_path, char *pid_path, size_t cap, ht_error *err)
{
    if ((size_t)snprintf(pid_path, cap, "%s.pid", journal_path) >= cap)
        return ht_error_set(err, "gateway: journal path %s is too long for its pid file", journal_path), -1;
    for (int attempt = 0; attempt < 5; attempt++) {
        int fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno == ELOOP)
            return ht_error_set(err, "gateway: pid file %s is a symbolic link: refused (a gateway writes only its "
                                "own file there)", pid_path), -1;
        if (fd < 0)
            return ht_error_set(err, "gateway: pid file %s: %s", pid_path, strerror(errno)), -1;
        if (lock_fd(fd) != 0) {
            int holder = 0;
            unsigned long long start = 0;
            bool named = read_pid_file(fd, &holder, &start);
            close(fd);
            if (errno != EAGAIN && errno != EACCES)
                return ht_error_set(err, "gateway: locking %s: %s", pid_path, strerror(errno)), -1;
            if (named)
                return ht_error_set(err, "gateway: the journal %s is in use by another gateway (pid %d holds %s); "
                                    "two gateways on one journal would reuse its ClOrdIDs", journal_path, holder,
                                    pid_path), -1;
            return ht_error_set(err, "gateway: the journal %s is in use by another gateway (%s is locked)",
                                journal_path, pid_path), -1;
        }
        /* The holder before us may have removed the file between our open and our lock: lock the one at the path. */
        struct stat ours, at_path;
        if (fstat(fd, &ours) != 0 || stat(pid_path, &at_path) != 0 || ours.st_ino != at_path.st_ino ||
            ours.st_dev != at_path.st_dev) {
            close(fd);
            continue;
        }
        char line[96];
        int len = snprintf(line, sizeof line, PID_FILE_MAGIC " %d %llu\n", (int)getpid(), process_start_ticks(getpid()));
        if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
            ht_error_set(err, "gateway: writing the pid file %s: %s", pid_path, strerror(errno));
            unlink(pid_path);
            close(fd);
            return -1;
        }
        return fd;
    }
    return ht_error_set(err, "gateway: the pid file %s keeps being replaced", pid_path), -1;
}

void gw_pid_file_release(int fd, const char *pid_path)
{
    if (fd < 0)
        return;
    unlink(pid_path); /* while still locked: a gateway starting now locks a new file */
    close(fd);
}

/* True when the process's SigCgt mask (/proc/PID/status) shows a handler for signo. */
static bool catches_signal(int pid, int signo)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool caught = false;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "SigCgt:", 7) == 0) {
            unsigned long long mask = strtoull(line + 7, NULL, 16);
            caught = (mask >> (signo - 1)) & 1u;
        }
    fclose(f);
    return caught;
}

/* The process's name from /proc/PID/comm, for messages ("?" when unknown). */
static void process_name(int pid, char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    snprintf(out, cap, "?");
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(out, (int)cap, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
    for (char *c = out; *c; c++)
        if (!isprint((unsigned char)*c))
            *c = '?';
}

/* Looks through the process's open files for a gateway pid file it holds: locked, and naming this pid with this
 * process's start time. 0 with the file's path, or -1 with why not. */
static int find_held_pid_file(int pid, char *pid_path, size_t cap, char *why, size_t why_cap)
{
    char dir_path[64];
    snprintf(dir_path, sizeof dir_path, "/proc/%d/fd", pid);
    DIR *dir = opendir(dir_path);
    if (!dir) {
        snprintf(why, why_cap, "cannot look at its open files (%s: %s)", dir_path, strerror(errno));
        return -1;
    }
    unsigned long long start = process_start_ticks(pid);
    int found = -1;
    struct dirent *d;
    while (found != 0 && (d = readdir(dir)) != NULL) {
        char link[64 + 256 + 2], target[512];
        if (d->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", dir_path, d->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 4 || (size_t)n >= cap)
            continue;
        target[n] = '\0';
        if (strcmp(target + n - 4, ".pid") != 0)
            continue; /* also skips "... (deleted)" */
        int fd = open(target, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;
        int named = 0;
        unsigned long long named_start = 0;
        if (read_pid_file(fd, &named, &named_start) && named == pid && start && named_start == start &&
            is_locked(fd)) {
            memcpy(pid_path, target, (size_t)n + 1);
            found = 0;
        }
        close(fd);
    }
    closedir(dir);
    if (found != 0)
        snprintf(why, why_cap, "it holds no locked hedgetrig gateway pid file");
    return found;
}

int ht_gw_check_process(int pid, char *pid_path, size_t cap, ht_error *err)
{
    char name[64], why[200];
    if (pid <= 1 || (kill(pid, 0) != 0 && errno == ESRCH))
        return ht_error_set(err, "no process %d", pid);
    process_name(pid, name, sizeof name);
    if (find_held_pid_file(pid, pid_path, cap, why, sizeof why) != 0)
        return ht_error_set(err, "pid %d (%s) is not a hedgetrig gateway: %s; nothing sent", pid, name, why);
    if (!catches_signal(pid, SIGUSR1))
        return ht_error_set(err, "pid %d (%s) holds the gateway pid file %s but does not catch SIGUSR1 (the signal "
                            "would end it, not engage its kill switch): use its kill_file; nothing sent", pid, name,
                            pid_path);
    return 0;
}

int ht_gw_pid_file_holder(const char *pid_path, ht_error *err)
{
    int fd = open(pid_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ht_error_set(err, "no gateway runs on this journal: %s: %s", pid_path, strerror(errno));
    int pid = 0;
    unsigned long long start = 0;
    bool named = read_pid_file(fd, &pid, &start);
    bool locked = is_locked(fd);
    close(fd);
    if (!named)
        return ht_error_set(err, "%s is not a hedgetrig gateway pid file", pid_path);
    if (!locked)
        return ht_error_set(err, "stale pid file %s: the gateway it names (pid %d) has ended, no gateway runs on "
                            "this journal", pid_path, pid);
    return pid;
}

/* Replaces the kill reason file next to the pid file (a temporary file renamed over it, mode 0600). */
static int write_reason(const char *pid_path, const char *reason, ht_error *err)
{
    char path[600], tmp[640];
    snprintf(path, sizeof path, "%s.reason", pid_path);
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return ht_error_set(err, "writing the kill reason %s: %s", tmp, strerror(errno));
    size_t len = strlen(reason);
    bool ok = write(fd, reason, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ht_error_set(err, "writing the kill reason %s: %s", path, strerror(errno));
    }
    return 0;
}

int ht_gw_signal_kill(int pid, const char *reason, char *pid_path, size_t cap, ht_error *err)
{
    /* A pidfd names this process, not whatever gets its pid later: if the gateway ends between the checks and
     * the signal, the signal fails (ESRCH) instead of reaching a process that was given the same pid. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0 && errno == ESRCH)
        return ht_error_set(err, "no process %d", pid);
    if (ht_gw_check_process(pid, pid_path, cap, err) != 0) {
        if (pidfd >= 0)
            close(pidfd);
        return -1;
    }
    if (write_reason(pid_path, reason, err) != 0) {
        if (pidfd >= 0)
            close(pidfd);
        return -1;
    }
    int rc = pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0) : kill(pid, SIGUSR1);
    int saved = errno;
    if (pidfd >= 0)
        close(pidfd);
    if (rc != 0)
        return ht_error_set(err, "SIGUSR1 to pid %d: %s", pid, strerror(saved));
    return 0;
}

int gw_take_kill_reason(const char *pid_path, char *out, size_t cap)
{
    char path[600];
    snprintf(path, sizeof path, "%s.reason", pid_path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat st;
    bool fresh = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && time(NULL) - st.st_mtime <= 60;
    ssize_t n = fresh ? read(fd, out, cap - 1) : -1;
    close(fd);
    unlink(path);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}
