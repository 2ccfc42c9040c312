/* SPDX-License-Identifier: MIT */
/* Reading a small text input whole: a regular file only, bounded in size, opened without blocking. */
#include "hedgetrig/textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Names a file type that is not a regular file, for a message. */
static const char *kind_name(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "of an unknown type";
}

char *ht_text_file_read(const char *path, const char *what, size_t max_bytes, size_t *len, ht_error *err)
{
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        ht_error_set(err, "%s: cannot open the %s: %s", path, what, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ht_error_set(err, "%s: cannot read the %s: %s", path, what, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        ht_error_set(err, "%s: the %s is %s, not a regular file", path, what, kind_name(st.st_mode));
        close(fd);
        return NULL;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        ht_error_set(err, "%s: the %s has %lld bytes, more than the %zu it may have", path, what,
                     (long long)st.st_size, max_bytes);
        close(fd);
        return NULL;
    }
    /* One byte more than the size, to notice a file that grew since fstat (a log, say): it is refused. */
    const size_t cap = (size_t)st.st_size + 1;
    size_t used = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        ht_error_set(err, "%s: out of memory for the %s (%zu bytes)", path, what, cap);
        close(fd);
        return NULL;
    }
    while (used < cap) {
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            if (n < 0) {
                ht_error_set(err, "%s: cannot read the %s: %s", path, what, strerror(errno));
                free(buf);
                close(fd);
                return NULL;
            }
            break;
        }
        used += (size_t)n;
    }
    close(fd);
    if (used == cap) {
        ht_error_set(err, "%s: the %s grew while it was read (from %zu bytes)", path, what, cap - 1);
        free(buf);
        return NULL;
    }
    buf[used] = '\0';
    *len = used;
    return buf;
}
