/* SPDX-License-Identifier: MIT */
/* Kernel UDP receive for machines without DPDK: one socket per port, joined to every group, recvmmsg bursts
 * with kernel timestamps (SO_TIMESTAMPNS) and the datagram's destination address (IP_PKTINFO). */
#define _GNU_SOURCE /* recvmmsg */
#include "nic_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hedgetrig/tsc.h"

#define SOCK_SLOT_BYTES 65536u

/* Memberships one socket may hold (net.ipv4.igmp_max_memberships defaults to 20). */
#define JOINS_PER_SOCKET 20u
#define MAX_JOIN_SOCKETS ((HT_NIC_MAX_GROUPS + JOINS_PER_SOCKET - 1) / JOINS_PER_SOCKET)

typedef struct sock_state {
    int fds[HT_NIC_MAX_PORTS];           /* one receiving socket per port, bound to any address */
    unsigned n_fds;
    int join_fds[MAX_JOIN_SOCKETS];      /* unbound sockets that only hold the group memberships */
    unsigned n_join_fds;
    unsigned next_fd;                    /* round-robin start */
    uint8_t *arena;                      /* HT_NIC_BURST slots of SOCK_SLOT_BYTES */
    struct mmsghdr msgs[HT_NIC_BURST];
    struct iovec iov[HT_NIC_BURST];
    struct sockaddr_in from[HT_NIC_BURST];
    uint8_t control[HT_NIC_BURST][128];
} sock_state;

/* Closes every socket and frees the state. */
static void sock_free(sock_state *s)
{
    for (unsigned i = 0; i < s->n_fds; i++)
        close(s->fds[i]);
    for (unsigned i = 0; i < s->n_join_fds; i++)
        close(s->join_fds[i]);
    free(s->arena);
    free(s);
}

/* Formats an IPv4 address (host order) into buf. */
static const char *addr_text(uint32_t addr, char *buf, size_t n)
{
    struct in_addr a = {htonl(addr)};
    return inet_ntop(AF_INET, &a, buf, (socklen_t)n) ? buf : "?";
}

/* Opens and binds the receiving socket of a port. */
static int open_port_socket(ht_nic *nic, sock_state *s, uint16_t port, ht_error *err)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ht_error_set(err, "socket: cannot create a UDP socket: %s", strerror(errno));
    s->fds[s->n_fds++] = fd;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0)
        return ht_error_set(err, "socket port %u: cannot enable timestamps/pktinfo: %s", port, strerror(errno));
    /* SO_RCVBUFFORCE passes net.core.rmem_max when allowed (root); SO_RCVBUF is capped by it. */
    if (nic->cfg.rcvbuf_bytes > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &nic->cfg.rcvbuf_bytes, sizeof nic->cfg.rcvbuf_bytes) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &nic->cfg.rcvbuf_bytes, sizeof nic->cfg.rcvbuf_bytes) != 0)
        return ht_error_set(err, "socket port %u: SO_RCVBUF %d: %s", port, nic->cfg.rcvbuf_bytes, strerror(errno));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return ht_error_set(err, "socket: cannot bind UDP port %u: %s", port, strerror(errno));
    return 0;
}

/* Joins every group on the interface. Linux delivers a joined group's datagrams to every socket bound to
 * the port (IP_MULTICAST_ALL), so the memberships live on unbound sockets of their own, at most
 * JOINS_PER_SOCKET each, and the receiving sockets filter by destination (IP_PKTINFO). */
static int join_groups(ht_nic *nic, sock_state *s, ht_error *err)
{
    const ht_nic_filter *f = &nic->cfg.filter;
    for (unsigned g = 0; g < f->n_groups; g++) {
        if (g % JOINS_PER_SOCKET == 0) {
            int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                return ht_error_set(err, "socket: cannot create a UDP socket: %s", strerror(errno));
            s->join_fds[s->n_join_fds++] = fd;
        }
        struct ip_mreq mreq;
        mreq.imr_multiaddr.s_addr = htonl(f->groups[g]);
        mreq.imr_interface.s_addr = htonl(nic->cfg.iface_addr);
        if (setsockopt(s->join_fds[s->n_join_fds - 1], IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
            char a[32], i[32];
            return ht_error_set(err, "socket: cannot join group %s on interface %s: %s",
                                addr_text(f->groups[g], a, sizeof a), addr_text(nic->cfg.iface_addr, i, sizeof i),
                                strerror(errno));
        }
    }
    return 0;
}

/* Opens one socket per configured port and joins the groups. */
static int sock_open(ht_nic *nic, ht_error *err)
{
    const ht_nic_filter *f = &nic->cfg.filter;
    if (f->n_ports == 0)
        return ht_error_set(err, "socket: no UDP port given (Deribit: 6100 incremental, 6101 snapshot)");
    if (!nic->cfg.unicast && f->n_groups == 0)
        return ht_error_set(err, "socket: no multicast group given to join (or choose unicast)");
    sock_state *s = calloc(1, sizeof *s);
    if (!s)
        return ht_error_set(err, "socket: out of memory");
    s->arena = malloc((size_t)HT_NIC_BURST * SOCK_SLOT_BYTES);
    if (!s->arena) {
        sock_free(s);
        return ht_error_set(err, "socket: out of memory");
    }
    for (unsigned p = 0; p < f->n_ports; p++) {
        if (open_port_socket(nic, s, f->ports[p], err) != 0) {
            sock_free(s);
            return -1;
        }
    }
    if (!nic->cfg.unicast && join_groups(nic, s, err) != 0) {
        sock_free(s);
        return -1;
    }
    nic->impl = s;
    return 0;
}

/* Fills packet i from the received message's buffer and control data. */
static void fill_packet(sock_state *s, unsigned i, uint64_t tsc, ht_nic_packet *p)
{
    struct msghdr *mh = &s->msgs[i].msg_hdr;
    p->payload = s->iov[i].iov_base;
    p->len = s->msgs[i].msg_len;
    p->rx_tsc = tsc;
    p->ts_ns = 0;
    p->src_addr = ntohl(s->from[i].sin_addr.s_addr);
    p->src_port = ntohs(s->from[i].sin_port);
    p->dst_addr = 0;
    p->dst_port = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            p->ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            p->dst_addr = ntohl(pi.ipi_addr.s_addr);
        }
    }
}

/* Receives from each socket in turn with one recvmmsg each until the burst is full. */
static int sock_rx_burst(ht_nic *nic, ht_nic_packet *pkts, unsigned max)
{
    sock_state *s = nic->impl;
    unsigned n = 0;
    unsigned slots_used = 0; /* filtered datagrams keep their slot until the next burst */
    for (unsigned k = 0; k < s->n_fds && n < max && slots_used < HT_NIC_BURST; k++) {
        unsigned fi = (s->next_fd + k) % s->n_fds;
        unsigned want = max - n;
        if (want > HT_NIC_BURST - slots_used)
            want = HT_NIC_BURST - slots_used;
        for (unsigned i = 0; i < want; i++) {
            s->iov[i].iov_base = s->arena + (size_t)(slots_used + i) * SOCK_SLOT_BYTES;
            s->iov[i].iov_len = SOCK_SLOT_BYTES;
            struct msghdr *mh = &s->msgs[i].msg_hdr;
            mh->msg_name = &s->from[i];
            mh->msg_namelen = sizeof s->from[i];
            mh->msg_iov = &s->iov[i];
            mh->msg_iovlen = 1;
            mh->msg_control = s->control[i];
            mh->msg_controllen = sizeof s->control[i];
            mh->msg_flags = 0;
        }
        int got = recvmmsg(s->fds[fi], s->msgs, want, MSG_DONTWAIT, NULL);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            nic->stats.rx_errors++;
            return ht_nic_fail(nic, "socket: recvmmsg on port %u: %s", nic->cfg.filter.ports[fi], strerror(errno));
        }
        slots_used += (unsigned)got;
        uint64_t tsc = ht_tsc_now();
        for (int i = 0; i < got; i++) {
            nic->stats.frames++;
            ht_nic_packet p;
            fill_packet(s, (unsigned)i, tsc, &p);
            p.dst_port = nic->cfg.filter.ports[fi];
            p.frame = nic->stats.frames;
            if (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                nic->stats.truncated++;
                continue;
            }
            /* Unicast datagrams carry the host's own address: only the port filter applies to them. */
            bool keep = nic->cfg.unicast ? true : ht_nic_filter_match(&nic->cfg.filter, p.dst_addr, p.dst_port);
            if (!keep) {
                nic->stats.filtered++;
                continue;
            }
            pkts[n++] = p;
            nic->stats.packets++;
            nic->stats.bytes += p.len;
        }
    }
    s->next_fd = (s->next_fd + 1) % s->n_fds;
    if (n > 0) {
        return (int)n;
    }
    return 0;
}

/* Closes the sockets. */
static void sock_close(ht_nic *nic)
{
    if (nic->impl)
        sock_free(nic->impl);
    nic->impl = NULL;
}

const ht_nic_ops ht_nic_socket_ops = {sock_open, sock_rx_burst, sock_close, NULL}; /* UDP payloads only */

/* ---- Sender ------------------------------------------------------------------------------------------ */

struct ht_udp_tx {
    int fd;
    struct mmsghdr msgs[HT_NIC_BURST];
    struct iovec iov[HT_NIC_BURST];
    struct sockaddr_in to[HT_NIC_BURST];
};

ht_udp_tx *ht_udp_tx_open(uint32_t iface_addr, int ttl, bool loop, ht_error *err)
{
    ht_udp_tx *tx = calloc(1, sizeof *tx);
    if (!tx) {
        ht_error_set(err, "udp tx: out of memory");
        return NULL;
    }
    tx->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (tx->fd < 0) {
        ht_error_set(err, "udp tx: cannot create a UDP socket: %s", strerror(errno));
        free(tx);
        return NULL;
    }
    unsigned char ttl_byte = (unsigned char)(ttl < 0 ? 1 : ttl > 255 ? 255 : ttl);
    unsigned char loop_byte = loop ? 1 : 0;
    struct in_addr ifa = {htonl(iface_addr)};
    if (setsockopt(tx->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl_byte, 1) != 0 ||
        setsockopt(tx->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop_byte, 1) != 0 ||
        (iface_addr && setsockopt(tx->fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa) != 0)) {
        char a[32];
        ht_error_set(err, "udp tx: cannot set multicast options (interface %s): %s",
                     addr_text(iface_addr, a, sizeof a), strerror(errno));
        close(tx->fd);
        free(tx);
        return NULL;
    }
    return tx;
}

int ht_udp_tx_send(ht_udp_tx *tx, const ht_nic_packet *pkts, unsigned n, ht_error *err)
{
    if (n > HT_NIC_BURST)
        n = HT_NIC_BURST;
    for (unsigned i = 0; i < n; i++) {
        tx->to[i].sin_family = AF_INET;
        tx->to[i].sin_port = htons(pkts[i].dst_port);
        tx->to[i].sin_addr.s_addr = htonl(pkts[i].dst_addr);
        tx->iov[i].iov_base = (void *)pkts[i].payload;
        tx->iov[i].iov_len = pkts[i].len;
        memset(&tx->msgs[i].msg_hdr, 0, sizeof tx->msgs[i].msg_hdr);
        tx->msgs[i].msg_hdr.msg_name = &tx->to[i];
        tx->msgs[i].msg_hdr.msg_namelen = sizeof tx->to[i];
        tx->msgs[i].msg_hdr.msg_iov = &tx->iov[i];
        tx->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = sendmmsg(tx->fd, tx->msgs, n, 0);
    if (sent < 0) {
        if (errno == EAGAIN || errno == ENOBUFS)
            return 0;
        return ht_error_set(err, "udp tx: sendmmsg: %s", strerror(errno));
    }
    return sent;
}

void ht_udp_tx_close(ht_udp_tx *tx)
{
    if (!tx)
        return;
    close(tx->fd);
    free(tx);
}
