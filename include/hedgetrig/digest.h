/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4), base64 (RFC 4648) and CRC-32C (Castagnoli): the gateway's logon and journal checksums. */
#ifndef HEDGETRIG_DIGEST_H
#define HEDGETRIG_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define HT_SHA256_DIGEST_BYTES 32

/* Incremental SHA-256 state. Life cycle: ht_sha256_init, ht_sha256_update (any number of times, any
 * lengths), ht_sha256_final. The state holds no pointers and may live on the stack. */
typedef struct ht_sha256 {
    uint32_t h[8];          /* chaining value */
    uint64_t total_bytes;   /* message length so far */
    uint8_t block[64];      /* partial block */
    size_t block_len;       /* bytes used in block, 0..63 */
} ht_sha256;

/* Starts a new digest. */
void ht_sha256_init(ht_sha256 *s);
/* Absorbs len bytes of data (data may be NULL when len is 0). */
void ht_sha256_update(ht_sha256 *s, const void *data, size_t len);
/* Writes the 32-byte digest to out; the state must be re-initialised before reuse. */
void ht_sha256_final(ht_sha256 *s, uint8_t out[HT_SHA256_DIGEST_BYTES]);
/* One-shot digest of data[0..len). */
void ht_sha256_oneshot(const void *data, size_t len, uint8_t out[HT_SHA256_DIGEST_BYTES]);

/* Length of the base64 text (with '=' padding, no terminator) for len input bytes. */
static inline size_t ht_base64_encoded_len(size_t len) { return (len + 2) / 3 * 4; }

/* Encodes len bytes of data as standard base64 (alphabet A-Z a-z 0-9 + /, '=' padding) into out, which
 * must hold ht_base64_encoded_len(len) + 1 bytes; writes a terminating NUL. Returns the text length. */
size_t ht_base64_encode(const void *data, size_t len, char *out);

/* Decodes standard base64 text[0..text_len) (padding required, no whitespace) into out (capacity out_cap).
 * Returns the number of bytes written, or -1 when the text is not valid base64 or out is too small. */
long ht_base64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of data[0..len), continuing from crc (pass 0 to
 * start). The check value of "123456789" is 0xE3069283. */
uint32_t ht_crc32c(uint32_t crc, const void *data, size_t len);

#endif
