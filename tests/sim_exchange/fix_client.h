/* SPDX-License-Identifier: MIT */
/* A raw FIX client of the exchange simulator for the tests of tests/sim_exchange: sends messages written from
 * "tag=value|" lists, reads the answers one at a time. Include after cmocka.h. */
#ifndef HT_TESTS_SIM_EXCHANGE_FIX_CLIENT_H
#define HT_TESTS_SIM_EXCHANGE_FIX_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hedgetrig/fix.h"
#include "hedgetrig/tsc.h"

/* A raw FIX client of the simulator. */
typedef struct client {
    int fd;
    uint64_t seq;
    char rx[1 << 20];
    size_t len;
    char msg[1 << 16]; /* the bytes of the last message read (its ht_fix_msg points here) */
    ht_fix_msg m;
} client;

/* Sends one message with the extra fields (tag=value separated by '|'). */
static void client_send(client *c, const char *type, const char *extra)
{
    char buf[2048];
    ht_fix_writer w;
    ht_fix_writer_begin(&w, buf, sizeof buf, type);
    ht_fix_put_str(&w, HT_TAG_SENDER_COMP_ID, "RAWCLIENT");
    ht_fix_put_str(&w, HT_TAG_TARGET_COMP_ID, "DERIBITSERVER");
    ht_fix_put_u64(&w, HT_TAG_MSG_SEQ_NUM, c->seq++);
    ht_fix_put_time(&w, HT_TAG_SENDING_TIME, ht_wall_ns());
    char fields[512];
    snprintf(fields, sizeof fields, "%s", extra);
    for (char *save = NULL, *f = strtok_r(fields, "|", &save); f; f = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(f, '=');
        assert_non_null(eq);
        *eq = '\0';
        ht_fix_put_str(&w, (uint32_t)strtoul(f, NULL, 10), eq + 1);
    }
    size_t len;
    const char *bytes = ht_fix_writer_finish(&w, &len);
    assert_non_null(bytes);
    assert_int_equal(send(c->fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads the next message into c->m within ms: 1, 0 on timeout, -1 when the connection closed. */
static int client_next(client *c, int ms)
{
    uint64_t end = ht_mono_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        size_t used;
        if (c->len && ht_fix_parse(c->rx, c->len, 0, &c->m, &used, NULL) == HT_FIX_PARSE_OK) {
            assert_true(used <= sizeof c->msg);
            memcpy(c->msg, c->rx, used);
            memmove(c->rx, c->rx + used, c->len - used);
            c->len -= used;
            assert_int_equal(ht_fix_parse(c->msg, used, 0, &c->m, &used, NULL), HT_FIX_PARSE_OK);
            return 1;
        }
        if (ht_mono_ns() > end)
            return 0;
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 10) != 1)
            continue;
        ssize_t n = recv(c->fd, c->rx + c->len, sizeof c->rx - c->len, 0);
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

/* Reads messages until one of type arrives (true) or 5 s pass; the types read on the way are appended to seen. */
static bool client_expect(client *c, const char *type, char *seen, size_t cap)
{
    while (client_next(c, 5000) == 1) {
        if (seen) {
            strncat(seen, c->m.msg_type, cap - strlen(seen) - 1);
            strncat(seen, " ", cap - strlen(seen) - 1);
        }
        if (!strcmp(c->m.msg_type, type))
            return true;
    }
    return false;
}

/* Connects and logs on (a fresh session). */
static void client_logon(client *c, uint16_t port)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    c->seq = 1;
    c->len = 0;
    client_send(c, "A", "98=0|108=30|141=Y|");
    assert_true(client_expect(c, "A", NULL, 0));
}

#endif
