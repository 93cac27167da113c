/* url.c - see url.h.  Relative references go through curl_url_set. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

bool url_is_absolute(const char *s, size_t n)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	if (n < 2 || !memchr(alpha, s[0], sizeof alpha - 1))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (c == ':')
			return true;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return false;
	}
	return false;
}

static char *url_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

#define URL_DUMMY "http://feedd.invalid"

/*
 * Both relative: resolve against a dummy origin and take it off again, so
 * that xml:base="/a/" with no document URL still turns "b" into "/a/b".
 */
static char *url_resolve_relative(const char *base, const char *ref, size_t n)
{
	size_t bl = strlen(base);
	char *abs = malloc(sizeof URL_DUMMY + 1 + bl);
	if (!abs)
		return NULL;
	snprintf(abs, sizeof URL_DUMMY + 1 + bl, "%s%s%s", URL_DUMMY, base[0] == '/' ? "" : "/", base);
	char *r = url_resolve(abs, ref, n);
	free(abs);
	if (!r || strncmp(r, URL_DUMMY "/", sizeof URL_DUMMY))
		return r;
	size_t skip = sizeof URL_DUMMY - 1 + (base[0] == '/' ? 0 : 1);
	memmove(r, r + skip, strlen(r + skip) + 1);
	return r;
}

char *url_resolve(const char *base, const char *ref, size_t n)
{
	if (!base || !*base || url_is_absolute(ref, n))
		return url_dup(ref, n);
	if (!url_is_absolute(base, strlen(base)))
		return url_resolve_relative(base, ref, n);
	char *r = url_dup(ref, n);
	if (!r)
		return NULL;
	const unsigned flags = CURLU_NON_SUPPORT_SCHEME | CURLU_ALLOW_SPACE;
	CURLU *h = curl_url();
	char *out = NULL;
	if (h && curl_url_set(h, CURLUPART_URL, base, flags) == CURLUE_OK &&
	    curl_url_set(h, CURLUPART_URL, r, flags) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &out, 0) == CURLUE_OK) {
		char *res = strdup(out);
		curl_free(out);
		if (res) {
			free(r);
			r = res;
		}
	}
	curl_url_cleanup(h);
	return r;
}
