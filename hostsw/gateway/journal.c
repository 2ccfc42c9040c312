/* SPDX-License-Identifier: MIT */
/* The journal file: CRC-32C framed records, appended with one pwritev each or copied into a shared mapping of the
 * pre-extended file (mmap mode), validated on open (both layouts: a zero tail ends the records). */
#define _GNU_SOURCE /* mremap */
#include "hedgetrig/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hedgetrig/digest.h"
#include "hedgetrig/tsc.h"

/* Bytes prefaulted ahead of the end of an mmap journal at each tick (the next appends' pages). */
#define PREFAULT_BYTES (64u << 10)

struct ht_journal {
    int fd;
    char path[256];
    uint64_t size;          /* end of the last record: where the next one goes */
    ht_journal_fsync policy;
    ht_journal_mode mode;
    uint64_t interval_ns;
    uint64_t last_sync_ns;
    bool dirty;
    uint8_t *map;           /* mmap mode: the file mapped shared, map_bytes long (the file's length) */
    uint64_t map_bytes;
    uint64_t synced_to;     /* mmap mode: records below this offset were synced */
    uint64_t prefault_end;  /* mmap mode: pages below this were prefaulted writable since the last sync */
    ht_journal_stats stats;
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

/* The end of the last non-zero byte of buf[from..size), or from when they are all zero. */
static uint64_t nonzero_end(const uint8_t *buf, uint64_t from, uint64_t size)
{
    uint64_t end = size;
    while (end > from && buf[end - 1] == 0)
        end--;
    return end;
}

/* At off the magic is zero (or fewer than 4 bytes are left, all zero): true when what follows is an mmap journal's end
 * (report filled): zeros only, or one record whose magic was never stored (the mmap append stores it last) followed
 * by zeros; false with why when non-zero bytes follow that no unpublished record explains. */
static bool zero_tail(const uint8_t *buf, uint64_t size, uint64_t off, ht_journal_report *report, char *why,
                      size_t why_cap)
{
    uint64_t used_end = nonzero_end(buf, off, size);
    if (used_end == off) {
        report->zero_tail_bytes = size - off;
        return true;
    }
    uint32_t len = size - off >= 8 ? load_le32(buf + off + 4) : HT_JOURNAL_MAX_PAYLOAD + 1;
    if (len <= HT_JOURNAL_MAX_PAYLOAD && used_end <= off + HT_JOURNAL_HEADER_BYTES + (uint64_t)len) {
        report->unpublished_bytes = used_end - off;
        report->zero_tail_bytes = size - used_end;
        return true;
    }
    snprintf(why, why_cap, "zero magic, then non-zero bytes up to offset %llu that no unpublished record explains",
             (unsigned long long)used_end);
    return false;
}

/* Checks and replays every record of buf[0..size); *end is where the trusted records end. A bad record refuses the
 * open (HT_JOURNAL_TAIL_REFUSE, err) or is cut (TRUNCATE: report->warning, *cut). 0 or -1. */
static int scan_records(const char *path, const uint8_t *buf, uint64_t size, ht_journal_tail tail,
                        ht_journal_replay_fn replay, void *user, ht_journal_report *report, uint64_t *end, bool *cut,
                        ht_error *err)
{
    uint64_t off = 0;
    char why[128];
    *cut = false;
    while (off < size) {
        bool zero_magic = size - off >= 4 ? load_le32(buf + off) == 0 : nonzero_end(buf, off, size) == off;
        if (zero_magic && zero_tail(buf, size, off, report, why, sizeof why))
            break;
        size_t rec_len = zero_magic ? 0 : check_record(buf, size, off, why, sizeof why);
        if (rec_len == 0) {
            if (tail == HT_JOURNAL_TAIL_REFUSE)
                return ht_error_set(err, "journal %s: record %llu at offset %llu: %s; %llu good records end at offset "
                                    "%llu and %llu bytes follow (set journal_tail = truncate to cut them after "
                                    "checking)", path, (unsigned long long)report->records + 1,
                                    (unsigned long long)off, why, (unsigned long long)report->records,
                                    (unsigned long long)off, (unsigned long long)(size - off));
            snprintf(report->warning, sizeof report->warning,
                     "journal %s: record %llu at offset %llu: %s; cut %llu bytes, %llu good records kept", path,
                     (unsigned long long)report->records + 1, (unsigned long long)off, why,
                     (unsigned long long)(size - off), (unsigned long long)report->records);
            report->dropped_bytes = size - off;
            *cut = true;
            break;
        }
        const uint8_t *p = buf + off;
        if (replay && replay(user, p[12], p + HT_JOURNAL_HEADER_BYTES, load_le32(p + 4), off, err) != 0)
            return -1;
        report->records++;
        off += rec_len;
    }
    *end = off;
    return 0;
}

/* Prefaults [from, to) of the mapping writable, so that appends there take no page fault: MADV_POPULATE_WRITE (Linux
 * 5.14; an optimisation, ignored where it fails) and then a zero stored into each page past the last record (they
 * are zero already): on a virtual machine the first touch of a page from user space can still cost microseconds
 * (the hypervisor's side of the mapping), measured 6 us on the development VM. */
static void prefault(ht_journal *j, uint64_t from, uint64_t to)
{
    from &= ~(uint64_t)4095;
    if (to > j->map_bytes)
        to = j->map_bytes;
    if (to <= from)
        return;
#ifdef MADV_POPULATE_WRITE
    (void)madvise(j->map + from, (size_t)(to - from), MADV_POPULATE_WRITE);
#endif
    for (uint64_t page = (j->size + 4095) & ~(uint64_t)4095; page < to; page += 4096)
        *(volatile uint8_t *)(j->map + page) = 0;
    j->prefault_end = to;
}

/* Extends the file (allocated, so a page fault never finds the disk full) and the mapping so that at least
 * need + a chunk bytes are free after the last record, in whole chunks. 0, or -1 with err. */
static int grow_map(ht_journal *j, uint64_t need, ht_error *err)
{
    uint64_t chunk = HT_JOURNAL_MMAP_CHUNK_BYTES;
    uint64_t want = (j->size + need + chunk + chunk - 1) / chunk * chunk;
    if (want <= j->map_bytes)
        return 0;
    int rc = posix_fallocate(j->fd, (off_t)j->map_bytes, (off_t)(want - j->map_bytes));
    if (rc != 0)
        return ht_error_set(err, "journal %s: extending the file to %llu bytes: %s", j->path, (unsigned long long)want,
                            strerror(rc));
    void *m = j->map ? mremap(j->map, (size_t)j->map_bytes, (size_t)want, MREMAP_MAYMOVE)
                     : mmap(NULL, (size_t)want, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
    if (m == MAP_FAILED)
        return ht_error_set(err, "journal %s: mapping %llu bytes: %s", j->path, (unsigned long long)want,
                            strerror(errno));
    j->map = m;
    j->map_bytes = want;
    j->stats.mapped_bytes = want;
    prefault(j, j->size, j->size + PREFAULT_BYTES);
    return 0;
}

/* Cuts the file at end (a bad tail cut on request, a zero tail, an unpublished record) and makes the cut durable.
 * 0, or -1 with err. */
static int cut_file(int fd, const char *path, uint64_t end, ht_error *err)
{
    if (ftruncate(fd, (off_t)end) != 0 || fdatasync(fd) != 0)
        return ht_error_set(err, "journal %s: cutting the tail at offset %llu: %s", path, (unsigned long long)end,
                            strerror(errno));
    return 0;
}

/* Checks the options of ht_journal_open_with. 0, or -1 with err. */
static int check_options(const char *path, const ht_journal_options *opt, ht_error *err)
{
    if (!path || !path[0] || strlen(path) >= sizeof((ht_journal *)0)->path)
        return ht_error_set(err, "journal path is empty or longer than 255 characters");
    if (opt->fsync == HT_JOURNAL_FSYNC_INTERVAL && (opt->interval_ms == 0 || opt->interval_ms > 60000))
        return ht_error_set(err, "journal %s: fsync interval must be 1..60000 ms, got %u", path, opt->interval_ms);
    if (opt->mode != HT_JOURNAL_MODE_WRITE && opt->mode != HT_JOURNAL_MODE_MMAP)
        return ht_error_set(err, "journal %s: unknown mode %d", path, (int)opt->mode);
    if (opt->mode == HT_JOURNAL_MODE_MMAP && opt->fsync == HT_JOURNAL_FSYNC_ALWAYS)
        return ht_error_set(err, "journal %s: journal_fsync = always needs journal_mode = write (with mmap the sync "
                            "of every record would be a syscall on the order path, which the mode exists to avoid); "
                            "use journal_fsync = interval or never with mmap", path);
    return 0;
}

ht_journal *ht_journal_open_with(const char *path, const ht_journal_options *opt, ht_journal_replay_fn replay,
                                 void *user, ht_journal_report *report, ht_error *err)
{
    ht_journal_report local;
    if (!report)
        report = &local;
    memset(report, 0, sizeof *report);
    if (check_options(path, opt, err) != 0)
        return NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ht_error_set(err, "journal %s: open: %s", path, strerror(errno)), NULL;
    uint64_t size = 0, end = 0;
    bool cut = false;
    uint8_t *buf = read_all(fd, path, &size, err);
    int rc = buf ? scan_records(path, buf, size, opt->tail, replay, user, report, &end, &cut, err) : -1;
    free(buf);
    if (rc == 0 && end < size)
        rc = cut_file(fd, path, end, err); /* a zero tail too: a write journal appends right after its last record */
    ht_journal *j = rc == 0 ? calloc(1, sizeof *j) : NULL;
    if (!j) {
        if (rc == 0)
            ht_error_set(err, "journal %s: out of memory", path);
        close(fd);
        return NULL;
    }
    report->good_bytes = end;
    j->fd = fd;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->size = j->synced_to = end;
    j->policy = opt->fsync;
    j->mode = j->stats.mode = opt->mode;
    j->interval_ns = (uint64_t)opt->interval_ms * 1000000u;
    j->last_sync_ns = ht_mono_ns();
    j->map_bytes = end;
    if (j->mode == HT_JOURNAL_MODE_MMAP && grow_map(j, 0, err) != 0) {
        ht_journal_close(j);
        return NULL;
    }
    return j;
}

ht_journal *ht_journal_open(const char *path, ht_journal_fsync fsync_policy, uint32_t interval_ms, ht_journal_tail tail,
                            ht_journal_replay_fn replay, void *user, ht_journal_report *report, ht_error *err)
{
    ht_journal_options opt = {fsync_policy, interval_ms, tail, HT_JOURNAL_MODE_WRITE};
    return ht_journal_open_with(path, &opt, replay, user, report, err);
}

/* Appends a record into the mapping: everything but the magic first, then the magic in one store, so that a process
 * stopped at any instruction leaves the record whole or unpublished (docs/gateway.md "Journal modes"). */
static int64_t append_mapped(ht_journal *j, const uint8_t hdr[HT_JOURNAL_HEADER_BYTES], const void *head,
                             size_t head_len, const void *body, size_t body_len, ht_error *err)
{
    size_t total = HT_JOURNAL_HEADER_BYTES + head_len + body_len;
    if (HT_UNLIKELY(j->size + total > j->map_bytes)) {
        j->stats.grows_inline++;
        if (grow_map(j, total, err) != 0)
            return -1;
    }
    uint8_t *p = j->map + j->size;
    memcpy(p + 4, hdr + 4, HT_JOURNAL_HEADER_BYTES - 4);
    if (head_len)
        memcpy(p + HT_JOURNAL_HEADER_BYTES, head, head_len);
    if (body_len)
        memcpy(p + HT_JOURNAL_HEADER_BYTES + head_len, body, body_len);
    atomic_signal_fence(memory_order_release); /* the compiler keeps the magic after the rest */
    memcpy(p, hdr, 4);
    int64_t at = (int64_t)j->size;
    j->size += total;
    j->dirty = true;
    return at;
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
    if (j->mode == HT_JOURNAL_MODE_MMAP)
        return append_mapped(j, hdr, head, head_len, body, body_len, err);
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
    if (j->mode == HT_JOURNAL_MODE_MMAP) {
        if (offset > j->size || len > j->size - offset || HT_JOURNAL_HEADER_BYTES > j->size - offset - len)
            return ht_error_set(err, "journal %s: read of %zu bytes at offset %llu: past the end", j->path, len,
                                (unsigned long long)offset);
        memcpy(out, j->map + offset + HT_JOURNAL_HEADER_BYTES, len);
        return 0;
    }
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
    if (j->mode == HT_JOURNAL_MODE_MMAP) {
        /* The pages holding records appended since the last sync (msync MS_SYNC: written and waited for). */
        uint64_t from = j->synced_to & ~(uint64_t)4095;
        if (msync(j->map + from, (size_t)(j->size - from), MS_SYNC) != 0)
            return ht_error_set(err, "journal %s: msync: %s", j->path, strerror(errno));
        j->synced_to = j->size;
        j->prefault_end = 0; /* written back pages are write-protected again: prefault them at the next tick */
    } else if (fdatasync(j->fd) != 0) {
        return ht_error_set(err, "journal %s: fdatasync: %s", j->path, strerror(errno));
    }
    j->dirty = false;
    j->last_sync_ns = ht_mono_ns();
    j->stats.syncs++;
    return 0;
}

void ht_journal_tick(ht_journal *j, uint64_t mono_ns)
{
    if (j->policy == HT_JOURNAL_FSYNC_INTERVAL && j->dirty && mono_ns - j->last_sync_ns >= j->interval_ns)
        ht_journal_sync(j, NULL);
    if (j->mode != HT_JOURNAL_MODE_MMAP)
        return;
    if (j->map_bytes - j->size < HT_JOURNAL_MMAP_CHUNK_BYTES) {
        uint64_t before = j->map_bytes;
        if (grow_map(j, 0, NULL) == 0 && j->map_bytes > before)
            j->stats.grows++;
    }
    if (j->size + PREFAULT_BYTES / 2 > j->prefault_end)
        prefault(j, j->size, j->size + PREFAULT_BYTES);
}

uint64_t ht_journal_size(const ht_journal *j)
{
    return j->size;
}

void ht_journal_stats_get(const ht_journal *j, ht_journal_stats *stats)
{
    *stats = j->stats;
}

const char *ht_journal_mode_name(ht_journal_mode mode)
{
    return mode == HT_JOURNAL_MODE_MMAP ? "mmap" : "write";
}

void ht_journal_close(ht_journal *j)
{
    if (!j)
        return;
    if (j->policy != HT_JOURNAL_FSYNC_NEVER)
        ht_journal_sync(j, NULL);
    if (j->map) {
        munmap(j->map, (size_t)j->map_bytes);
        /* The zero room goes: a closed journal has the layout of a write journal. */
        if (ftruncate(j->fd, (off_t)j->size) == 0 && j->policy != HT_JOURNAL_FSYNC_NEVER)
            (void)fdatasync(j->fd);
    }
    close(j->fd);
    free(j);
}
