/* SPDX-License-Identifier: MIT */
/* Reading a small text input whole: a regular file only, bounded in size, opened without blocking. */
#include "hedgetrig/textfile.h"

#include <ctype.h>
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

/* Length of the UTF-8 sequence starting at s[0] with n bytes available, or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    const unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return len;
}

int ht_text_check_line(const char *s, size_t n, ht_error *why)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] == 0)
            return ht_error_set(why, "a NUL byte at column %zu", i + 1);
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7F)
            return ht_error_set(why, "control character 0x%02X at column %zu", u[i], i + 1);
        size_t len = utf8_sequence(u + i, n - i);
        if (len == 0)
            return ht_error_set(why, "byte 0x%02X at column %zu is not UTF-8 text", u[i], i + 1);
        i += len;
    }
    return 0;
}

bool ht_text_is_decimal(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    return i == n;
}

char *ht_text_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}
