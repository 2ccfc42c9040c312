/* SPDX-License-Identifier: MIT */
/* The journal file: CRC-32C framed records, appended with one writev each, validated on open. */
#include "hedgetrig/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hedgetrig/digest.h"
#include "hedgetrig/tsc.h"

struct ht_journal {
    int fd;
    char path[256];
    uint64_t size;
    ht_journal_fsync policy;
    uint64_t interval_ns;
    uint64_t last_sync_ns;
    bool dirty;
};

/* Little-endian 32-bit load. */
static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Little-endian 32-bit store. */
static void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Reads the whole file into a malloc'd buffer. */
static uint8_t *read_all(int fd, const char *path, uint64_t *size, ht_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ht_error_set(err, "journal %s: fstat: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        ht_error_set(err, "journal %s: out of memory reading %lld bytes", path, (long long)st.st_size);
        return NULL;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ht_error_set(err, "journal %s: read at offset %zu: %s", path, got, n < 0 ? strerror(errno) : "short file");
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    *size = got;
    return buf;
}

/* Validates the record at off: returns its total length, or 0 with why filled when it is bad. */
static size_t check_record(const uint8_t *buf, uint64_t size, uint64_t off, char *why, size_t why_cap)
{
    uint64_t left = size - off;
    if (left < HT_JOURNAL_HEADER_BYTES) {
        snprintf(why, why_cap, "truncated header (%llu of %d bytes)", (unsigned long long)left, HT_JOURNAL_HEADER_BYTES);
        return 0;
    }
    const uint8_t *p = buf + off;
    uint32_t magic = load_le32(p);
    uint32_t len = load_le32(p + 4);
    uint32_t crc = load_le32(p + 8);
    if (magic != HT_JOURNAL_MAGIC) {
        snprintf(why, why_cap, "bad magic 0x%08x (expected 0x%08x)", magic, HT_JOURNAL_MAGIC);
        return 0;
    }
    if (len > HT_JOURNAL_MAX_PAYLOAD) {
        snprintf(why, why_cap, "payload length %u over the %u-byte limit", len, HT_JOURNAL_MAX_PAYLOAD);
        return 0;
    }
    if (left < HT_JOURNAL_HEADER_BYTES + (uint64_t)len) {
        snprintf(why, why_cap, "truncated payload (%llu of %u bytes)",
                 (unsigned long long)(left - HT_JOURNAL_HEADER_BYTES), len);
        return 0;
    }
    uint32_t got = ht_crc32c(0, p + 12, 1u + len);
    if (got != crc) {
        snprintf(why, why_cap, "CRC-32C 0x%08x does not match the stored 0x%08x", got, crc);
        return 0;
    }
    return HT_JOURNAL_HEADER_BYTES + (size_t)len;
}

ht_journal *ht_journal_open(const char *path, ht_journal_fsync fsync_policy, uint32_t interval_ms, ht_journal_tail tail,
                            ht_journal_replay_fn replay, void *user, ht_journal_report *report, ht_error *err)
{
    ht_journal_report local;
    if (!report)
        report = &local;
    memset(report, 0, sizeof *report);
    if (!path || !path[0] || strlen(path) >= sizeof((ht_journal *)0)->path) {
        ht_error_set(err, "journal path is empty or longer than 255 characters");
        return NULL;
    }
    if (fsync_policy == HT_JOURNAL_FSYNC_INTERVAL && (interval_ms == 0 || interval_ms > 60000)) {
        ht_error_set(err, "journal %s: fsync interval must be 1..60000 ms, got %u", path, interval_ms);
        return NULL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        ht_error_set(err, "journal %s: open: %s", path, strerror(errno));
        return NULL;
    }
    uint64_t size = 0;
    uint8_t *buf = read_all(fd, path, &size, err);
    if (!buf) {
        close(fd);
        return NULL;
    }
    uint64_t off = 0;
    char why[128];
    while (off < size) {
        size_t rec_len = check_record(buf, size, off, why, sizeof why);
        if (rec_len == 0) {
            if (tail == HT_JOURNAL_TAIL_REFUSE) {
                ht_error_set(err, "journal %s: record %llu at offset %llu: %s; %llu good records end at offset %llu and "
                             "%llu bytes follow (set journal_tail = truncate to cut them after checking)",
                             path, (unsigned long long)report->records + 1, (unsigned long long)off, why,
                             (unsigned long long)report->records, (unsigned long long)off,
                             (unsigned long long)(size - off));
                free(buf);
                close(fd);
                return NULL;
            }
            snprintf(report->warning, sizeof report->warning,
                     "journal %s: record %llu at offset %llu: %s; cut %llu bytes, %llu good records kept", path,
                     (unsigned long long)report->records + 1, (unsigned long long)off, why,
                     (unsigned long long)(size - off), (unsigned long long)report->records);
            report->dropped_bytes = size - off;
            if (ftruncate(fd, (off_t)off) != 0 || fdatasync(fd) != 0) {
                ht_error_set(err, "journal %s: cutting the bad tail at offset %llu: %s", path, (unsigned long long)off,
                             strerror(errno));
                free(buf);
                close(fd);
                return NULL;
            }
            size = off;
            break;
        }
        const uint8_t *p = buf + off;
        if (replay && replay(user, p[12], p + HT_JOURNAL_HEADER_BYTES, load_le32(p + 4), off, err) != 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        report->records++;
        off += rec_len;
    }
    free(buf);
    report->good_bytes = size;
    ht_journal *j = calloc(1, sizeof *j);
    if (!j) {
        close(fd);
        ht_error_set(err, "journal %s: out of memory", path);
        return NULL;
    }
    j->fd = fd;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->size = size;
    j->policy = fsync_policy;
    j->interval_ns = (uint64_t)interval_ms * 1000000u;
    j->last_sync_ns = ht_mono_ns();
    return j;
}

int64_t ht_journal_append(ht_journal *j, uint8_t type, const void *head, size_t head_len, const void *body,
                          size_t body_len, ht_error *err)
{
    size_t len = head_len + body_len;
    if (len > HT_JOURNAL_MAX_PAYLOAD) {
        ht_error_set(err, "journal %s: record of %zu bytes over the %u-byte limit", j->path, len, HT_JOURNAL_MAX_PAYLOAD);
        return -1;
    }
    uint8_t hdr[HT_JOURNAL_HEADER_BYTES];
    store_le32(hdr, HT_JOURNAL_MAGIC);
    store_le32(hdr + 4, (uint32_t)len);
    hdr[12] = type;
    uint32_t crc = ht_crc32c(0, &type, 1);
    crc = ht_crc32c(crc, head, head_len);
    crc = ht_crc32c(crc, body, body_len);
    store_le32(hdr + 8, crc);
    struct iovec iov[3] = {{hdr, sizeof hdr}, {(void *)head, head_len}, {(void *)body, body_len}};
    size_t total = sizeof hdr + len;
    ssize_t n;
    do {
        n = pwritev(j->fd, iov, 3, (off_t)j->size);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)total) {
        /* Leave no partial record behind for the next append to build on. */
        if (ftruncate(j->fd, (off_t)j->size) != 0) {
            /* the next open will find and report the torn record */
        }
        ht_error_set(err, "journal %s: write of %zu bytes at offset %llu: %s", j->path, total,
                     (unsigned long long)j->size, n < 0 ? strerror(errno) : "short write");
        return -1;
    }
    int64_t at = (int64_t)j->size;
    j->size += total;
    j->dirty = true;
    if (j->policy == HT_JOURNAL_FSYNC_ALWAYS && ht_journal_sync(j, err) != 0)
        return -1;
    return at;
}

int ht_journal_read_payload(ht_journal *j, uint64_t offset, void *out, size_t len, ht_error *err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(j->fd, (uint8_t *)out + got, len - got, (off_t)(offset + HT_JOURNAL_HEADER_BYTES + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ht_error_set(err, "journal %s: read of %zu bytes at offset %llu: %s", j->path, len,
                                (unsigned long long)offset, n < 0 ? strerror(errno) : "past the end");
        got += (size_t)n;
    }
    return 0;
}

int ht_journal_sync(ht_journal *j, ht_error *err)
{
    if (!j->dirty)
        return 0;
    if (fdatasync(j->fd) != 0)
        return ht_error_set(err, "journal %s: fdatasync: %s", j->path, strerror(errno));
    j->dirty = false;
    j->last_sync_ns = ht_mono_ns();
    return 0;
}

void ht_journal_tick(ht_journal *j, uint64_t mono_ns)
{
    if (j->policy == HT_JOURNAL_FSYNC_INTERVAL && j->dirty && mono_ns - j->last_sync_ns >= j->interval_ns)
        ht_journal_sync(j, NULL);
}

uint64_t ht_journal_size(const ht_journal *j)
{
    return j->size;
}

void ht_journal_close(ht_journal *j)
{
    if (!j)
        return;
    if (j->policy != HT_JOURNAL_FSYNC_NEVER)
        ht_journal_sync(j, NULL);
    close(j->fd);
    free(j);
}
