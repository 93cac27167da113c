/*
 * encoding.h - internal to parsers/: detects a document's character
 * encoding (RFC 7303: BOM, then the HTTP charset, then the XML declaration,
 * else UTF-8) and transcodes it to valid UTF-8 in a streaming way.
 *
 * UTF-8 input is validated (8 ASCII bytes at a time) and passed through
 * without copying; bytes that are not valid UTF-8 are decoded as
 * windows-1252.  Other encodings go through iconv; a sequence split across
 * chunks is kept for the next chunk; undecodable bytes become U+FFFD.
 * Whenever the bytes contradict the chosen encoding (or the label is
 * unknown), sink.bad is called once, right after everything before the
 * offending byte was passed to sink.out, so the caller knows the position.
 */
#ifndef FEEDD_ENCODING_H
#define FEEDD_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

struct enc_sink {
	/* UTF-8 output; returns -1 to stop the decoder (enc_feed returns -1). */
	int (*out)(void *ctx, const char *s, size_t len);
	/* The first contradiction; msg is a static string. */
	void (*bad)(void *ctx, const char *msg);
	void *ctx;
};

struct enc;

/* http_charset may be NULL.  The sink is copied.  NULL on out of memory.
 * lazy_utf8: UTF-8 input is passed on unvalidated (zero cost) until
 * enc_validate is called; for a consumer that validates by itself (expat)
 * and switches to one that does not. */
struct enc *enc_new(const char *http_charset, const struct enc_sink *sink, bool lazy_utf8);
/* From now on validate UTF-8; s[0..n) (bytes passed on unvalidated that the
 * consumer gives back) is validated and passed on first.  0 or -1. */
int enc_validate(struct enc *e, const char *s, size_t n);
/* True while UTF-8 is passed on unvalidated (the decoder reports nothing). */
bool enc_raw(const struct enc *e);
/* 0, or -1 when the sink stopped or out of memory. */
int enc_feed(struct enc *e, const char *buf, size_t len);
/* End of input: flushes what is pending.  0 or -1. */
int enc_finish(struct enc *e);
/* The encoding in use ("utf-8" until decided), lower case. */
const char *enc_name(const struct enc *e);
void enc_free(struct enc *e);

/* Length of the longest valid UTF-8 prefix of s[0..n).  An incomplete but
 * so far valid sequence at the end is not counted. */
size_t enc_utf8_valid(const unsigned char *s, size_t n);

#endif
