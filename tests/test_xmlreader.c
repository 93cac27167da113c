/*
 * test_xmlreader.c - parsers/xmlreader: events, namespaces, limits.
 *
 * Events are recorded as one string: "<{ns}local|prefix a={ns}n=v>" for a
 * start, "</{ns}local>" for an end and the text in between (adjacent text
 * pieces coalesced), so a test compares one string.
 */
#include <check.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "xmlreader.h"

struct rec {
	char *s;
	size_t len, cap;
	size_t nstart;
	size_t textbytes;
	size_t stop_after; /* xr_stop after this many starts (0: never) */
	struct xr *x;
};

static void rec_add(struct rec *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->s = realloc(r->s, r->cap);
		ck_assert_ptr_nonnull(r->s);
	}
	memcpy(r->s + r->len, s, n);
	r->len += n;
	r->s[r->len] = '\0';
}

static void rec_str(struct rec *r, const char *s)
{
	rec_add(r, s, strlen(s));
}

static void rec_name(struct rec *r, const char *ns, const char *local)
{
	if (*ns) {
		rec_str(r, "{");
		rec_str(r, ns);
		rec_str(r, "}");
	}
	rec_str(r, local);
}

static void rec_start(void *ud, const char *ns, const char *local, const char *prefix,
		      const struct xr_attr *a, size_t n)
{
	struct rec *r = ud;

	r->nstart++;
	rec_str(r, "<");
	rec_name(r, ns, local);
	if (*prefix) {
		rec_str(r, "|");
		rec_str(r, prefix);
	}
	for (size_t i = 0; i < n; i++) {
		rec_str(r, " ");
		rec_name(r, a[i].ns, a[i].local);
		rec_str(r, "=");
		rec_str(r, a[i].value);
	}
	rec_str(r, ">");
	if (r->stop_after && r->nstart == r->stop_after)
		xr_stop(r->x);
}

static void rec_end(void *ud, const char *ns, const char *local)
{
	struct rec *r = ud;

	rec_str(r, "</");
	rec_name(r, ns, local);
	rec_str(r, ">");
}

static void rec_text(void *ud, const char *s, size_t n)
{
	struct rec *r = ud;

	r->textbytes += n;
	rec_add(r, s, n);
}

static const struct xr_handlers rec_handlers = {rec_start, rec_end, rec_text};

static struct xr_opts default_opts(void)
{
	struct xr_opts o = {NULL, 1u << 20, 20.0f, 256};
	return o;
}

/* Parses doc (len bytes) in chunks of `chunk` bytes (0: whole). */
static struct xr *parse_with(struct rec *r, const struct xr_opts *o, const char *doc, size_t len,
			     size_t chunk)
{
	struct xr *x = xr_new(o, &rec_handlers, r);

	ck_assert_ptr_nonnull(x);
	r->x = x;
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (xr_feed(x, doc + off, n) < 0)
			return x;
	}
	xr_finish(x);
	return x;
}

static char *events(const char *doc, bool *wf)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x = parse_with(&r, &o, doc, strlen(doc), 0);

	if (wf)
		*wf = xr_wellformed(x);
	xr_free(x);
	if (!r.s)
		return strdup("");
	return r.s;
}

START_TEST(test_utf8_elements_text_attributes)
{
	bool wf;
	char *e = events("<?xml version=\"1.0\"?><a x=\"1\"><b>hi &amp; \xc3\xa9</b></a>", &wf);

	ck_assert_str_eq(e, "<a x=1><b>hi & \xc3\xa9</b></a>");
	ck_assert(wf);
	free(e);
}
END_TEST

START_TEST(test_namespaces_resolved_with_prefix)
{
	char *e = events("<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
			 "xmlns=\"urn:d\"><dc:creator dc:x=\"1\" y=\"2\">me</dc:creator></rss>",
			 NULL);

	ck_assert_str_eq(e, "<{urn:d}rss><{http://purl.org/dc/elements/1.1/}creator|dc "
			    "{http://purl.org/dc/elements/1.1/}x=1 y=2>me"
			    "</{http://purl.org/dc/elements/1.1/}creator></{urn:d}rss>");
	free(e);
}
END_TEST

START_TEST(test_xml_lang_attribute_in_xml_namespace)
{
	char *e = events("<a xml:lang=\"en\"/>", NULL);

	ck_assert_str_eq(e, "<a {" XR_NS_XML "}lang=en></a>");
	free(e);
}
END_TEST

START_TEST(test_cdata_is_text)
{
	char *e = events("<a><![CDATA[<b>x</b>]]></a>", NULL);

	ck_assert_str_eq(e, "<a><b>x</b></a>");
	free(e);
}
END_TEST

START_TEST(test_depth_cap_at_limit_reported)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;

	o.max_depth = 3;
	x = parse_with(&r, &o, "<a><b><c>t</c></b></a>", 22, 0);
	ck_assert_str_eq(r.s, "<a><b><c>t</c></b></a>");
	xr_free(x);
	free(r.s);
}
END_TEST

START_TEST(test_depth_cap_past_limit_skipped)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	const char *doc = "<a><b><c><d>t<e/></d>u</c>v</b></a>";

	o.max_depth = 3;
	x = parse_with(&r, &o, doc, strlen(doc), 0);
	ck_assert_str_eq(r.s, "<a><b><c>u</c>v</b></a>");
	ck_assert(xr_wellformed(x));
	xr_free(x);
	free(r.s);
}
END_TEST

START_TEST(test_200000_nested_elements_bounded)
{
	size_t n = 200000, len = n * 7 + 1;
	char *doc = malloc(len), *p = doc;
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;

	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "</a>");
	x = parse_with(&r, &o, doc, (size_t)(p - doc), 4096);
	ck_assert_uint_eq(r.nstart, o.max_depth);
	/* past 1024 levels expat hands over to the tolerant tokenizer (memory) */
	ck_assert(!xr_wellformed(x));
	ck_assert_ptr_nonnull(strstr(xr_error(x), "nested too deep"));
	xr_free(x);
	free(r.s);
	free(doc);
}
END_TEST

START_TEST(test_stop_from_handler)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	const char *doc = "<a><b/><c/><d/></a>";

	r.stop_after = 2;
	x = parse_with(&r, &o, doc, strlen(doc), 1);
	ck_assert_str_eq(r.s, "<a><b>");
	ck_assert_int_eq(xr_feed(x, "x", 1), -1);
	xr_free(x);
	free(r.s);
}
END_TEST

START_TEST(test_error_has_line_and_column)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	const char *doc = "<a>\n  <b></c></a>";
	struct xr *x = parse_with(&r, &o, doc, strlen(doc), 0);

	ck_assert(!xr_wellformed(x));
	ck_assert_ptr_nonnull(xr_error(x));
	ck_assert_msg(strncmp(xr_error(x), "line 2, column 8: ", 18) == 0, "%s", xr_error(x));
	xr_free(x);
	free(r.s);
}
END_TEST


/* ---- a generic run: events, wellformed, error, encoding ---- */

struct res {
	char *ev;
	bool wf;
	char err[256];
	char enc[32];
	size_t textbytes;
	bool utf8ok;
};

static bool valid_utf8(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k, len;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if (((unsigned char)s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | ((unsigned char)s[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

static struct res run(const char *doc, size_t len, const char *http, size_t chunk)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	struct res out;

	o.http_charset = http;
	x = parse_with(&r, &o, doc, len, chunk);
	out.ev = r.s ? r.s : strdup("");
	out.wf = xr_wellformed(x);
	snprintf(out.err, sizeof(out.err), "%s", xr_error(x) ? xr_error(x) : "");
	snprintf(out.enc, sizeof(out.enc), "%s", xr_encoding(x));
	out.textbytes = r.textbytes;
	out.utf8ok = valid_utf8(out.ev, strlen(out.ev)) && strlen(out.ev) == r.len;
	xr_free(x);
	return out;
}

static struct res runs(const char *doc)
{
	return run(doc, strlen(doc), NULL, 0);
}

#define ck_err_prefix(res, pfx)                                                                    \
	ck_assert_msg(strncmp((res).err, pfx, strlen(pfx)) == 0, "error \"%s\" is not \"%s...\"",  \
		      (res).err, pfx)

/* doc (UTF-8) converted to enc with iconv. */
static char *to_enc(const char *utf8, const char *enc, size_t *outlen)
{
	iconv_t cd = iconv_open(enc, "UTF-8");
	size_t il = strlen(utf8), ol = il * 4 + 16, cap = ol;
	char *out = malloc(cap), *ip = (char *)utf8, *op = out;

	ck_assert_msg(cd != (iconv_t)-1, "iconv %s", enc);
	ck_assert_msg(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1, "to %s", enc);
	iconv_close(cd);
	*outlen = (size_t)(op - out);
	return out;
}

/* ---- entities table ---- */

START_TEST(test_entity_table_has_all_html5_names)
{
	ck_assert_str_eq(html_entity_lookup("nbsp", 4), "\xc2\xa0");
	ck_assert_str_eq(html_entity_lookup("hellip", 6), "\xe2\x80\xa6");
	ck_assert_str_eq(html_entity_lookup("CounterClockwiseContourIntegral", 31),
			 "\xe2\x88\xb3");
	ck_assert_str_eq(html_entity_lookup("AElig", 5), "\xc3\x86");
	ck_assert_ptr_null(html_entity_lookup("nbspx", 5));
	ck_assert_ptr_null(html_entity_lookup("nbs", 3));
	ck_assert_ptr_null(html_entity_lookup("", 0));
}
END_TEST

/* ---- encodings ---- */

static const char sample_text[] = "caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x94 ok";

START_TEST(test_utf8_without_bom)
{
	char doc[256];
	struct res r;

	snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?><a>%s</a>", sample_text);
	r = runs(doc);
	ck_assert(r.wf);
	ck_assert_str_eq(r.enc, "utf-8");
	ck_assert_str_eq(r.ev, "<a>" "caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x94 ok" "</a>");
	free(r.ev);
}
END_TEST

START_TEST(test_utf8_with_bom)
{
	struct res r = runs("\xef\xbb\xbf<?xml version=\"1.0\"?><a>\xc3\xa9</a>");

	ck_assert(r.wf);
	ck_assert_str_eq(r.enc, "utf-8");
	ck_assert_str_eq(r.ev, "<a>\xc3\xa9</a>");
	free(r.ev);
}
END_TEST

static void check_utf16(const char *enc, const char *bom, size_t bomlen, const char *want_enc)
{
	size_t n;
	char *body = to_enc("<?xml version=\"1.0\" encoding=\"utf-16\"?><a>caf\xc3\xa9 "
			    "\xe4\xb8\xad</a>",
			    enc, &n);
	char *doc = malloc(n + bomlen);
	struct res r;

	memcpy(doc, bom, bomlen);
	memcpy(doc + bomlen, body, n);
	for (size_t chunk = 0; chunk < 4; chunk += 3) {
		r = run(doc, n + bomlen, NULL, chunk);
		ck_assert_msg(r.wf, "%s", r.err);
		ck_assert_str_eq(r.enc, want_enc);
		ck_assert_str_eq(r.ev, "<a>caf\xc3\xa9 \xe4\xb8\xad</a>");
		free(r.ev);
	}
	free(body);
	free(doc);
}

START_TEST(test_utf16le_with_bom)
{
	check_utf16("UTF-16LE", "\xff\xfe", 2, "utf-16le");
}
END_TEST

START_TEST(test_utf16be_with_bom)
{
	check_utf16("UTF-16BE", "\xfe\xff", 2, "utf-16be");
}
END_TEST

START_TEST(test_utf16le_without_bom_declared)
{
	check_utf16("UTF-16LE", "", 0, "utf-16le");
}
END_TEST

START_TEST(test_utf16be_without_bom_declared)
{
	check_utf16("UTF-16BE", "", 0, "utf-16be");
}
END_TEST

/* One document per 8-bit / multibyte encoding: declared in the XML
 * declaration, text of that script, read back as UTF-8. */
static const struct {
	const char *label;
	const char *text; /* UTF-8 */
} enc_cases[] = {
	{"ISO-8859-1", "caf\xc3\xa9 na\xc3\xafve \xc2\xa3"},
	{"ISO-8859-2", "\xc5\x81\xc3\xb3\x64\xc5\xba \xc5\xbc\xc3\xb3\xc5\x82\x77"},
	{"ISO-8859-5", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
	{"ISO-8859-7", "\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1"},
	{"ISO-8859-15", "\xe2\x82\xac 5 \xc5\x93uvre"},
	{"windows-1250", "\xc5\x81\xc3\xb3\x64\xc5\xba \xe2\x80\x9e\x71\xe2\x80\x9d"},
	{"windows-1251", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe2\x80\x94"},
	{"windows-1252", "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac \xc3\xa9"},
	{"windows-1253", "\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1"},
	{"windows-1254", "\xc4\x9f\xc3\xbc\xc5\x9f\xc4\xb1\xc3\xb6\xc3\xa7"},
	{"windows-1255", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"},
	{"windows-1256", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7"},
	{"windows-1257", "\xc4\x81\xc4\x8d\xc4\x93\xc5\xa1"},
	{"windows-1258", "Vi\xe1\xbb\x87t"},
	{"KOI8-R", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
	{"KOI8-U", "\xd0\x87\xd0\xb6\xd0\xb0\xd0\xba \xd2\x91"},
	{"Shift_JIS", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad"},
	{"EUC-JP", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad"},
	{"GB2312", "\xe4\xb8\xad\xe6\x96\x87\xe6\x96\xb0\xe9\x97\xbb"},
	{"GBK", "\xe4\xb8\xad\xe6\x96\x87\xe6\x96\xb0\xe9\x97\xbb"},
	{"GB18030", "\xe4\xb8\xad\xe6\x96\x87\xe6\x96\xb0\xe9\x97\xbb"},
	{"Big5", "\xe4\xb8\xad\xe6\x96\x87\xe6\x96\xb0\xe8\x81\x9e"},
	{"EUC-KR", "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4"},
};

START_TEST(test_declared_encoding_decoded)
{
	char doc[512], want[512];
	size_t n;
	char *bytes;
	struct res r;

	snprintf(doc, sizeof(doc), "<?xml version=\"1.0\" encoding=\"%s\"?>\n<a t=\"%s\">%s</a>",
		 enc_cases[_i].label, enc_cases[_i].text, enc_cases[_i].text);
	snprintf(want, sizeof(want), "<a t=%s>%s</a>", enc_cases[_i].text, enc_cases[_i].text);
	bytes = to_enc(doc, enc_cases[_i].label, &n);
	for (size_t chunk = 0; chunk < 2; chunk++) { /* whole, then byte by byte */
		r = run(bytes, n, NULL, chunk);
		ck_assert_msg(r.wf, "%s: %s", enc_cases[_i].label, r.err);
		ck_assert_str_eq(r.ev, want);
		free(r.ev);
	}
	free(bytes);
}
END_TEST

/* Labels that feeds write and glibc's iconv does not take as written. */
static const struct {
	const char *label, *bytes, *want;
} enc_label_cases[] = {
	{"latin-1", "caf\xe9", "caf\xc3\xa9"},
	{"Latin_1", "caf\xe9", "caf\xc3\xa9"},
	{"latin-2", "\xa3\xf3", "\xc5\x81\xc3\xb3"},
	{"windows1252", "\x93q\x94", "\xe2\x80\x9cq\xe2\x80\x9d"},
	{"cp-1252", "\x93q\x94", "\xe2\x80\x9cq\xe2\x80\x9d"},
	{"win-1251", "\xcf", "\xd0\x9f"},
	{"x-mac-cyrillic", "\x8f", "\xd0\x9f"},
	{"x-mac-ukrainian", "\x8f", "\xd0\x9f"},
};

START_TEST(test_declared_label_variants_decoded)
{
	char doc[256], want[64];

	snprintf(doc, sizeof(doc), "<?xml version=\"1.0\" encoding=\"%s\"?><a>%s</a>",
		 enc_label_cases[_i].label, enc_label_cases[_i].bytes);
	snprintf(want, sizeof(want), "<a>%s</a>", enc_label_cases[_i].want);
	struct res r = run(doc, strlen(doc), NULL, 0);
	ck_assert_msg(r.wf, "%s: %s", enc_label_cases[_i].label, r.err);
	ck_assert_str_eq(r.ev, want);
	free(r.ev);
}
END_TEST

START_TEST(test_http_charset_overrides_declaration)
{
	size_t n;
	char *doc = to_enc("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>\xd0\x9f\xd1\x80</a>",
			   "windows-1251", &n);
	struct res r = run(doc, n, "Windows-1251", 0);

	ck_assert(r.wf);
	ck_assert_str_eq(r.enc, "windows-1251");
	ck_assert_str_eq(r.ev, "<a>\xd0\x9f\xd1\x80</a>");
	free(r.ev);
	free(doc);
}
END_TEST

START_TEST(test_bom_overrides_http_and_declaration)
{
	const char *doc = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>\xc3\xa9</a>";
	struct res r = run(doc, strlen(doc), "koi8-r", 0);

	ck_assert(r.wf);
	ck_assert_str_eq(r.enc, "utf-8");
	ck_assert_str_eq(r.ev, "<a>\xc3\xa9</a>");
	free(r.ev);
}
END_TEST

START_TEST(test_declared_utf8_with_latin1_bytes_read_as_cp1252)
{
	struct res r = runs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a>\xc3\xa9 caf\xe9 "
			    "\x93q\x94</a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a>\xc3\xa9 caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d</a>");
	ck_err_prefix(r, "line 2, column 9: ");
	free(r.ev);
}
END_TEST

START_TEST(test_invalid_utf8_split_across_chunks)
{
	const char *doc = "<a>\xe2\x80\x9c \xe2\x80< \xf0\x9f\x98\x80</a>";
	struct res whole = runs(doc), bytes = run(doc, strlen(doc), NULL, 1);

	ck_assert(!whole.wf);
	ck_assert_str_eq(whole.ev, bytes.ev);
	ck_assert_str_eq(whole.err, bytes.err);
	ck_assert(whole.utf8ok);
	free(whole.ev);
	free(bytes.ev);
}
END_TEST

START_TEST(test_utf8_cut_inside_a_character_at_the_end)
{
	struct res r = runs("<a>ok \xe2\x80");

	ck_assert(!r.wf);
	ck_assert(r.utf8ok);
	ck_assert_str_eq(r.ev, "<a>ok \xc3\xa2\xe2\x82\xac</a>");
	free(r.ev);
}
END_TEST

START_TEST(test_declared_utf16_but_ascii_read_as_utf8)
{
	struct res r = runs("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>ok</a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.enc, "utf-8");
	ck_assert_str_eq(r.ev, "<a>ok</a>");
	ck_err_prefix(r, "line 1, column 1: ");
	free(r.ev);
}
END_TEST

START_TEST(test_unknown_encoding_falls_back_to_utf8)
{
	struct res r = runs("<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?><a>\xc3\xa9"
			    "\xe9</a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.enc, "utf-8");
	ck_assert_str_eq(r.ev, "<a>\xc3\xa9\xc3\xa9</a>");
	free(r.ev);
}
END_TEST

START_TEST(test_iso_8859_1_is_exact_not_cp1252)
{
	struct res r = runs("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>\x93\xe9</a>");

	ck_assert(r.wf);
	ck_assert_str_eq(r.ev, "<a>\xc2\x93\xc3\xa9</a>");
	free(r.ev);
}
END_TEST

START_TEST(test_invalid_bytes_in_declared_multibyte_encoding)
{
	/* 0x82 0x20 is no Shift_JIS character */
	struct res r = runs("<?xml version=\"1.0\" encoding=\"shift_jis\"?><a>x\x82 y</a>");

	ck_assert(!r.wf);
	ck_assert(r.utf8ok);
	ck_assert_str_eq(r.ev, "<a>x\xef\xbf\xbd y</a>");
	free(r.ev);
}
END_TEST

/* ---- recovery ---- */

START_TEST(test_undefined_html_entity_recovered)
{
	struct res r = runs("<rss>\n<t>a&nbsp;b &eacute;&hellip;</t><u>&copy;</u></rss>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<rss>\n<t>a\xc2\xa0" "b \xc3\xa9\xe2\x80\xa6</t><u>\xc2\xa9</u></rss>");
	ck_err_prefix(r, "line 2, column 5: ");
	ck_assert_msg(strstr(r.err, "undefined entity"), "%s", r.err);
	free(r.ev);
}
END_TEST

START_TEST(test_entity_in_netscape_rss_091_with_dtd_is_wellformed)
{
	struct res r = runs(
		"<?xml version=\"1.0\"?>\n<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD "
		"RSS 0.91//EN\" \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n"
		"<rss version=\"0.91\"><t>a&nbsp;b&eacute;&bogus;</t></rss>");

	ck_assert_msg(r.wf, "%s", r.err);
	ck_assert_str_eq(r.ev, "<rss version=0.91><t>a\xc2\xa0" "b\xc3\xa9&bogus;</t></rss>");
	free(r.ev);
}
END_TEST

START_TEST(test_entity_in_attribute_with_external_dtd_is_resolved)
{
	struct res r = runs(
		"<!DOCTYPE rss SYSTEM \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n"
		"<rss xmlns:p=\"urn:p\"><t a=\"x&eacute;y\" p:b='&amp;&lt;' c=\"1\"/>"
		"<u d=\"&#65;\"/></rss>");

	ck_assert_msg(r.wf, "%s", r.err);
	ck_assert_str_eq(r.ev, "<rss><t a=x\xc3\xa9y {urn:p}b=&< c=1></t><u d=A></u></rss>");
	free(r.ev);
}
END_TEST

START_TEST(test_bare_ampersand_kept_literally)
{
	struct res r = runs("<a><b>Tom & Jerry &amp; co &#233;&#xe9; AT&T</b></a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a><b>Tom & Jerry & co \xc3\xa9\xc3\xa9 AT&T</b></a>");
	ck_err_prefix(r, "line 1, column 12: ");
	free(r.ev);
}
END_TEST

START_TEST(test_bare_less_than_kept_literally)
{
	struct res r = runs("<a><b>1 < 2 <3</b></a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a><b>1 < 2 <3</b></a>");
	free(r.ev);
}
END_TEST

START_TEST(test_control_characters_dropped)
{
	struct res r = runs("<a><b>x\x01y\x0bz\x1f</b><c>ok</c></a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a><b>xyz</b><c>ok</c></a>");
	ck_err_prefix(r, "line 1, column 8: ");
	free(r.ev);
}
END_TEST

START_TEST(test_mismatched_end_tag_closes_to_open_element)
{
	struct res r = runs("<a><b>x<i>y</b><c>z</c></a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a><b>x<i>y</i></b><c>z</c></a>");
	free(r.ev);
}
END_TEST

START_TEST(test_end_tag_matching_nothing_ignored)
{
	struct res r = runs("<a><b>x</q>y</b></a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a><b>xy</b></a>");
	free(r.ev);
}
END_TEST

/* XML names are case-sensitive, but an end tag that matches no open
 * element exactly closes one it matches in another case (</TITLE> for
 * <title>), as the HTML-minded feed parsers read it. */
START_TEST(test_end_tag_in_another_case_closes_its_element)
{
	struct res r = runs("<a><title>x</TITLE><b>y</b></a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a><title>x</title><b>y</b></a>");
	free(r.ev);
}
END_TEST

START_TEST(test_end_tag_exact_match_beats_another_case)
{
	struct res r = runs("<a><B><b>x</B>y</b></a>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<a><B><b>x</b></B>y</a>");
	free(r.ev);
}
END_TEST

START_TEST(test_missing_end_tags_closed_at_finish)
{
	struct res r = runs("<rss><channel><item><title>t</title>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<rss><channel><item><title>t</title></item></channel></rss>");
	free(r.ev);
}
END_TEST

START_TEST(test_truncated_document_keeps_items)
{
	struct res r = runs("<rss><channel><item><title>one</title></item><item><title>tw");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<rss><channel><item><title>one</title></item><item><title>tw"
			       "</title></item></channel></rss>");
	free(r.ev);
}
END_TEST

START_TEST(test_truncated_inside_tag_drops_partial_tag)
{
	struct res r = runs("<rss><item><title>one</title><link href=\"x");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<rss><item><title>one</title></item></rss>");
	free(r.ev);
}
END_TEST

START_TEST(test_junk_before_xml_declaration_skipped)
{
	struct res r = runs("\n\n junk <<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			    "<!-- c --><rss v=\"2\"><t>x</t></rss>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<rss v=2><t>x</t></rss>");
	ck_err_prefix(r, "line 1, column 1: junk before the document");
	free(r.ev);
}
END_TEST

START_TEST(test_whitespace_before_xml_declaration_flagged)
{
	struct res r = runs("\n  <?xml version=\"1.0\"?><rss><t>x&amp;y</t></rss>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<rss><t>x&y</t></rss>");
	ck_err_prefix(r, "line 1, column 1: ");
	free(r.ev);
}
END_TEST

START_TEST(test_whitespace_before_root_without_declaration_is_fine)
{
	struct res r = runs("\n  \n<rss><t>x</t></rss>");

	ck_assert_msg(r.wf, "%s", r.err);
	ck_assert_str_eq(r.ev, "<rss><t>x</t></rss>");
	free(r.ev);
}
END_TEST

START_TEST(test_junk_skip_same_for_any_chunking)
{
	const char *doc = "\xff\xfe junk < 3 <<?xml version=\"1.0\"?><rss><t>x</t></rss>";
	struct res whole = runs(doc);

	for (size_t chunk = 1; chunk < 9; chunk++) {
		struct res part = run(doc, strlen(doc), NULL, chunk);

		ck_assert_str_eq(part.ev, whole.ev);
		ck_assert_str_eq(part.err, whole.err);
		free(part.ev);
	}
	free(whole.ev);
}
END_TEST

START_TEST(test_lenient_less_than_inside_attribute_value)
{
	struct res r = runs("<a>&bad;<b t=\"x < y\" u=\"1\">z</b></a>");

	ck_assert_str_eq(r.ev, "<a>&bad;<b t=x < y u=1>z</b></a>");
	free(r.ev);
}
END_TEST

START_TEST(test_recovery_keeps_namespaces_from_expat)
{
	struct res r = runs("<rss xmlns:dc=\"urn:dc\"><i><dc:creator>a&nbsp;</dc:creator>"
			    "<dc:date>d</dc:date></i></rss>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<rss><i><{urn:dc}creator|dc>a\xc2\xa0</{urn:dc}creator>"
			       "<{urn:dc}date|dc>d</{urn:dc}date></i></rss>");
	free(r.ev);
}
END_TEST

START_TEST(test_lenient_tags_attributes_and_namespaces)
{
	struct res r = runs("<x>&bad;</x><feed xmlns=\"urn:a\" xmlns:p=\"urn:p\">"
			    "<e a=1 b='2' c p:d=\"&amp;&lt;&#65;\" a=\"dup\"/>"
			    "<p:f/><!-- </feed> --><![CDATA[<t>]]><?pi </feed>?>"
			    "<g xmlns=\"\"/><dc:creator>c</dc:creator><zz:q/></feed>");

	ck_assert(!r.wf);
	ck_assert_str_eq(r.ev, "<x>&bad;</x><{urn:a}feed><{urn:a}e a=1 b=2 c= {urn:p}d=&<A>"
			       "</{urn:a}e><{urn:p}f|p></{urn:p}f><t><g></g>"
			       "<{http://purl.org/dc/elements/1.1/}creator|dc>c"
			       "</{http://purl.org/dc/elements/1.1/}creator><zz:q></zz:q></{urn:a}feed>");
	free(r.ev);
}
END_TEST

START_TEST(test_lenient_entities_without_semicolon)
{
	struct res r = runs("<a>&x;<b t=\"&copy2 &ampx=1\">&copy2 &nbspx &notit; &hellip "
			    "&#x41 &#9999999999; &#0; &#xD800;</b></a>");

	ck_assert(!r.wf);
	/* in attributes a legacy name followed by alnum or '=' stays literal */
	ck_assert_str_eq(r.ev, "<a>&x;<b t=&copy2 &ampx=1>\xc2\xa9" "2 \xc2\xa0x \xc2\xacit; "
			       "&hellip A \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd</b></a>");
	free(r.ev);
}
END_TEST

START_TEST(test_lenient_newlines_normalized)
{
	struct res r = runs("<a>&bad;</a><b t=\"1\r\n2\">x\r\ny\rz</b>");

	ck_assert_str_eq(r.ev, "<a>&bad;</a><b t=1 2>x\ny\nz</b>");
	free(r.ev);
}
END_TEST

static const char *chunk_docs[] = {
	"<?xml version=\"1.0\"?>\n<rss xmlns:a=\"urn:a\"><c><t a:x=\"1\">x &amp; y</t>"
	"<![CDATA[<b>c</b>]]><!-- no --><d>\xc3\xa9\xe2\x80\x9c</d></c></rss>",
	"<rss><c><t>x &nbsp; y & z < w</t><i a=1 b='x>y' c>\r\n<j>&hellip;&#x263a;</k>"
	"<![CDATA[x]]y]]]><!-- - -- ---><?p ?\?>&amp\xc3\xa9&eacute</i>\x01</c>",
	"junk\xff<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e \"[>\">]><r><p:q xmlns:p=\"u\">"
	"&e;&lt;</p:q></r>",
};

START_TEST(test_byte_by_byte_same_as_whole)
{
	const char *doc = chunk_docs[_i];
	struct res whole = runs(doc);

	for (size_t chunk = 1; chunk < 8; chunk++) {
		struct res part = run(doc, strlen(doc), NULL, chunk);

		ck_assert_str_eq(part.ev, whole.ev);
		ck_assert(part.wf == whole.wf);
		ck_assert_str_eq(part.err, whole.err);
		free(part.ev);
	}
	free(whole.ev);
}
END_TEST

START_TEST(test_stop_in_lenient_mode)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	const char *doc = "<a>&nbsp;<b/><c/><d/></a>";

	r.stop_after = 2;
	x = parse_with(&r, &o, doc, strlen(doc), 0);
	ck_assert_str_eq(r.s, "<a>\xc2\xa0<b>");
	ck_assert_int_eq(xr_finish(x), -1);
	xr_free(x);
	free(r.s);
}
END_TEST

START_TEST(test_depth_cap_in_lenient_mode)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	const char *doc = "<a>&nbsp;<b><c><d>t<e/></d>u</c>v</b></a>";

	o.max_depth = 3;
	x = parse_with(&r, &o, doc, strlen(doc), 0);
	ck_assert_str_eq(r.s, "<a>\xc2\xa0<b><c>u</c>v</b></a>");
	xr_free(x);
	free(r.s);
}
END_TEST

/* ---- safety ---- */

START_TEST(test_billion_laughs_stopped)
{
	char doc[2048], *p = doc;
	struct res r;

	p += sprintf(p, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
	for (int i = 1; i <= 9; i++) {
		p += sprintf(p, "<!ENTITY lol%d \"", i);
		for (int k = 0; k < 10; k++)
			p += sprintf(p, i == 1 ? "&lol;" : "&lol%d;", i - 1);
		p += sprintf(p, "\">\n");
	}
	p += sprintf(p, "]>\n<lolz>&lol9;</lolz>");
	r = runs(doc);
	ck_assert(!r.wf);
	ck_assert_msg(strstr(r.err, "amplification"), "%s", r.err);
	ck_assert_uint_le(r.textbytes, 2u << 20);
	free(r.ev);
}
END_TEST

/* Entities nested 4 deep, 10 references each: &l4; expands to 30,000
 * bytes.  The document references it `refs` times. */
static struct res amplified(size_t refs, unsigned long long threshold)
{
	char doc[4096], *p = doc;
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	struct res out;

	p += sprintf(p, "<!DOCTYPE d [<!ENTITY l0 \"lol\">");
	for (int i = 1; i <= 4; i++) {
		p += sprintf(p, "<!ENTITY l%d \"", i);
		for (int k = 0; k < 10; k++)
			p += sprintf(p, "&l%d;", i - 1);
		p += sprintf(p, "\">");
	}
	p += sprintf(p, "]><d>");
	for (size_t i = 0; i < refs; i++)
		p += sprintf(p, "&l4;");
	p += sprintf(p, "</d>");
	o.amplification_threshold = threshold;
	x = parse_with(&r, &o, doc, (size_t)(p - doc), 0);
	out.wf = xr_wellformed(x);
	snprintf(out.err, sizeof(out.err), "%s", xr_error(x) ? xr_error(x) : "");
	out.textbytes = r.textbytes;
	out.ev = r.s;
	xr_free(x);
	return out;
}

START_TEST(test_amplification_below_threshold_expanded)
{
	/* 30,000 bytes of text; expat counts ~74,000 with the entity texts */
	struct res r = amplified(1, 100000);

	ck_assert_msg(r.wf, "%s", r.err);
	ck_assert_uint_eq(r.textbytes, 30000);
	free(r.ev);
}
END_TEST

START_TEST(test_amplification_past_threshold_stopped)
{
	struct res r = amplified(10, 100000); /* ~740,000 bytes, factor >> 20 */

	ck_assert(!r.wf);
	ck_assert_msg(strstr(r.err, "amplification"), "%s", r.err);
	ck_assert_uint_lt(r.textbytes, 150000);
	/* not expanded again by the recovery */
	ck_assert_ptr_nonnull(strstr(r.ev, "&l4;"));
	free(r.ev);
}
END_TEST

START_TEST(test_external_entity_not_loaded)
{
	struct res r = runs("<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "
			    "\"file:///etc/passwd\">]>\n<r>a&x;b</r>");

	ck_assert_ptr_null(strstr(r.ev, "root:"));
	ck_assert_str_eq(r.ev, "<r>ab</r>");
	free(r.ev);
}
END_TEST

START_TEST(test_external_dtd_not_loaded)
{
	struct res r = runs("<?xml version=\"1.0\"?>\n<!DOCTYPE r SYSTEM \"/etc/passwd\">\n"
			    "<r>a&x;b</r>");

	ck_assert_ptr_null(strstr(r.ev, "root:"));
	ck_assert_str_eq(r.ev, "<r>a&x;b</r>");
	free(r.ev);
}
END_TEST

START_TEST(test_garbage_input_gives_valid_utf8)
{
	unsigned seed = 12345;
	char buf[4096];

	for (int round = 0; round < 300; round++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % sizeof(buf));
		static const char *charsets[] = {NULL, "utf-16", "shift_jis", "koi8-r", "bogus"};
		struct res r;

		for (size_t i = 0; i < n; i++) {
			int k = rand_r(&seed) % 8;
			/* mostly markup-ish bytes, some random */
			buf[i] = k < 3 ? "<>&;/=\"' ax#!-[]?:"[rand_r(&seed) % 19]
				       : (char)(rand_r(&seed) & 0xFF);
		}
		r = run(buf, n, charsets[round % 5], 1 + (size_t)(round % 7) * 100);
		ck_assert_msg(r.utf8ok, "round %d", round);
		free(r.ev);
	}
}
END_TEST

START_TEST(test_events_delivered_before_the_end)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x = xr_new(&o, &rec_handlers, &r);
	const char *a = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><item>x</item><item>";
	const char *b = "<rss><item>x</item><item>";

	ck_assert_int_eq(xr_feed(x, a, strlen(a)), 0);
	ck_assert_str_eq(r.s, "<rss><item>x</item><item>");
	xr_free(x);
	free(r.s);
	memset(&r, 0, sizeof(r));
	x = xr_new(&o, &rec_handlers, &r);
	ck_assert_int_eq(xr_feed(x, b, strlen(b)), 0);
	ck_assert_str_eq(r.s, "<rss><item>x</item><item>");
	xr_free(x);
	free(r.s);
}
END_TEST

/* ---- fixtures (tests/fixtures/xr) ---- */

static struct res run_fixture(const char *name, size_t chunk)
{
	char path[256];
	size_t len;
	char *doc;
	struct res r;

	snprintf(path, sizeof(path), "xr/%s", name);
	doc = tu_read_file(tu_fixture(path), &len);
	r = run(doc, len, NULL, chunk);
	free(doc);
	return r;
}

START_TEST(test_fixture_netscape_rss_091_entities)
{
	struct res r = run_fixture("netscape-091.xml", 0);

	ck_assert_msg(r.wf, "%s", r.err);
	ck_assert_str_eq(r.enc, "iso-8859-1");
	ck_assert_ptr_nonnull(strstr(r.ev, "<title>Caf\xc3\xa9 News</title>"));
	ck_assert_ptr_nonnull(strstr(r.ev, "News\xc2\xa0\xe2\x80\x94\xc2\xa0" "daily\xe2\x80\xa6"));
	ck_assert_ptr_nonnull(strstr(r.ev, "<title>R\xc3\xa9sum\xc3\xa9 & more</title>"));
	free(r.ev);
}
END_TEST

START_TEST(test_fixture_latin1_declared_utf8)
{
	struct res r = run_fixture("latin1-declared-utf8.xml", 7);

	ck_assert(!r.wf);
	ck_err_prefix(r, "line 2, column 39: ");
	ck_assert_ptr_nonnull(strstr(r.ev, "<title>Caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d</title>"));
	ck_assert_ptr_nonnull(strstr(r.ev, "<title>na\xc3\xafve \xe2\x80\x94 ok</title></item>"));
	free(r.ev);
}
END_TEST

START_TEST(test_fixture_koi8_r)
{
	struct res r = run_fixture("koi8-r.xml", 3);

	ck_assert_msg(r.wf, "%s", r.err);
	ck_assert_str_eq(r.enc, "koi8-r");
	ck_assert_ptr_nonnull(strstr(r.ev, "<title>\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
					   "\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80</title>"));
	free(r.ev);
}
END_TEST

static Suite *xmlreader_suite(void)
{
	Suite *s = suite_create("xmlreader");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_utf8_elements_text_attributes);
	tcase_add_test(tc, test_namespaces_resolved_with_prefix);
	tcase_add_test(tc, test_xml_lang_attribute_in_xml_namespace);
	tcase_add_test(tc, test_cdata_is_text);
	tcase_add_test(tc, test_depth_cap_at_limit_reported);
	tcase_add_test(tc, test_depth_cap_past_limit_skipped);
	tcase_add_test(tc, test_200000_nested_elements_bounded);
	tcase_add_test(tc, test_stop_from_handler);
	tcase_add_test(tc, test_error_has_line_and_column);
	tcase_add_test(tc, test_entity_table_has_all_html5_names);
	tcase_add_test(tc, test_events_delivered_before_the_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("encodings");
	tcase_add_test(tc, test_utf8_without_bom);
	tcase_add_test(tc, test_utf8_with_bom);
	tcase_add_test(tc, test_utf16le_with_bom);
	tcase_add_test(tc, test_utf16be_with_bom);
	tcase_add_test(tc, test_utf16le_without_bom_declared);
	tcase_add_test(tc, test_utf16be_without_bom_declared);
	tcase_add_loop_test(tc, test_declared_encoding_decoded, 0,
			    sizeof(enc_cases) / sizeof(enc_cases[0]));
	tcase_add_loop_test(tc, test_declared_label_variants_decoded, 0,
			    sizeof(enc_label_cases) / sizeof(enc_label_cases[0]));
	tcase_add_test(tc, test_http_charset_overrides_declaration);
	tcase_add_test(tc, test_bom_overrides_http_and_declaration);
	tcase_add_test(tc, test_declared_utf8_with_latin1_bytes_read_as_cp1252);
	tcase_add_test(tc, test_invalid_utf8_split_across_chunks);
	tcase_add_test(tc, test_utf8_cut_inside_a_character_at_the_end);
	tcase_add_test(tc, test_declared_utf16_but_ascii_read_as_utf8);
	tcase_add_test(tc, test_unknown_encoding_falls_back_to_utf8);
	tcase_add_test(tc, test_iso_8859_1_is_exact_not_cp1252);
	tcase_add_test(tc, test_invalid_bytes_in_declared_multibyte_encoding);
	suite_add_tcase(s, tc);

	tc = tcase_create("recovery");
	tcase_add_test(tc, test_undefined_html_entity_recovered);
	tcase_add_test(tc, test_entity_in_netscape_rss_091_with_dtd_is_wellformed);
	tcase_add_test(tc, test_entity_in_attribute_with_external_dtd_is_resolved);
	tcase_add_test(tc, test_bare_ampersand_kept_literally);
	tcase_add_test(tc, test_bare_less_than_kept_literally);
	tcase_add_test(tc, test_control_characters_dropped);
	tcase_add_test(tc, test_mismatched_end_tag_closes_to_open_element);
	tcase_add_test(tc, test_end_tag_matching_nothing_ignored);
	tcase_add_test(tc, test_end_tag_in_another_case_closes_its_element);
	tcase_add_test(tc, test_end_tag_exact_match_beats_another_case);
	tcase_add_test(tc, test_missing_end_tags_closed_at_finish);
	tcase_add_test(tc, test_truncated_document_keeps_items);
	tcase_add_test(tc, test_truncated_inside_tag_drops_partial_tag);
	tcase_add_test(tc, test_junk_before_xml_declaration_skipped);
	tcase_add_test(tc, test_whitespace_before_xml_declaration_flagged);
	tcase_add_test(tc, test_whitespace_before_root_without_declaration_is_fine);
	tcase_add_test(tc, test_junk_skip_same_for_any_chunking);
	tcase_add_test(tc, test_lenient_less_than_inside_attribute_value);
	tcase_add_test(tc, test_recovery_keeps_namespaces_from_expat);
	tcase_add_test(tc, test_lenient_tags_attributes_and_namespaces);
	tcase_add_test(tc, test_lenient_entities_without_semicolon);
	tcase_add_test(tc, test_lenient_newlines_normalized);
	tcase_add_loop_test(tc, test_byte_by_byte_same_as_whole, 0,
			    sizeof(chunk_docs) / sizeof(chunk_docs[0]));
	tcase_add_test(tc, test_stop_in_lenient_mode);
	tcase_add_test(tc, test_depth_cap_in_lenient_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("fixtures");
	tcase_add_test(tc, test_fixture_netscape_rss_091_entities);
	tcase_add_test(tc, test_fixture_latin1_declared_utf8);
	tcase_add_test(tc, test_fixture_koi8_r);
	suite_add_tcase(s, tc);

	tc = tcase_create("safety");
	tcase_add_test(tc, test_billion_laughs_stopped);
	tcase_add_test(tc, test_amplification_below_threshold_expanded);
	tcase_add_test(tc, test_amplification_past_threshold_stopped);
	tcase_add_test(tc, test_external_entity_not_loaded);
	tcase_add_test(tc, test_external_dtd_not_loaded);
	tcase_add_test(tc, test_garbage_input_gives_valid_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xmlreader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
