/*
 * date.c - feed dates to UTC epoch seconds and back to RFC 3339.
 *
 * Feeds carry dates in every shape: RFC 822 and its descendants (RFC 1123,
 * 2822, RFC 850 and asctime), W3C-DTF / RFC 3339 / ISO 8601 (reduced
 * precision, ordinal and week dates, basic and extended), MSSQL-style
 * "2004-07-08 23:56:58.0", and a few localized forms (Greek, Hungarian,
 * Korean) that the Universal Feed Parser learned from real feeds.  The
 * semantics of the odd forms follow that parser, so a feed reads the same
 * here as it does there; where it guesses from the clock ("--12", "-03"
 * with no year) or silently rolls impossible values over (hour 25), we
 * refuse instead: an unparseable date is omitted, never invented.
 *
 * Decisions (tested in tests/test_date.c):
 *  - Two-digit years in RFC 822 forms follow RFC 2822: 00-49 -> 20xx,
 *    50-99 -> 19xx; three-digit years add 1900.  Two-digit ISO 8601 years
 *    ("031231", "-03-12") are 20xx, as ISO 8601 reads them in this century.
 *  - Zone names: RFC 822's (UT, GMT, EST ... PDT, military letters with
 *    RFC 822's signs, A = -1 ... M = -12, N = +1 ... Y = +12, Z = 0), the
 *    unofficial AT/ET/CT/MT/PT, and a few common ones (CET, BST, JST ...).
 *    An unknown alphabetic zone after a time reads as UTC, as in the
 *    Universal Feed Parser: the instant is then off by hours, not lost.
 *  - Leap second ":60" rolls into the next minute (23:59:60 -> 00:00:00
 *    the next day), as POSIX time does.  "24:00:00" is the next midnight.
 *  - Out of range fields (month 13, Feb 30, hour 25, minute 60) are
 *    invalid; so is any result outside years 0000-9999 UTC.
 *  - Fractions of a second are truncated.
 *  - Reduced precision means the first instant of the period.
 *
 * No locale, no libc time functions, no globals, no allocation: the
 * civil-date arithmetic is done here, so TZ and LC_* cannot change results.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feed.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define DATE_MIN INT64_C(-62167219200)
#define DATE_MAX INT64_C(253402300799)

#define KOREAN_OFFSET (9 * 3600)

struct date_fields {
	int64_t year;
	int month, day; /* 1-based */
	int hour, minute, second;
	int offset; /* seconds east of UTC */
	int ampm;   /* 0 none, 1 am, 2 pm */
};

struct name_value {
	const char *name;
	int value;
};

/* ---- tables ---- */

static const char *const date_months[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};

static const char *const date_wdays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* Localized month names matched exactly (UTF-8). */
static const struct name_value date_months_intl[] = {
    /* Greek (iso-8859-7 feeds, after decoding) */
    {u8"\u0399\u03b1\u03bd", 1},
    {u8"\u03a6\u03b5\u03b2", 2},
    {u8"\u039c\u03ac\u03ce", 3},
    {u8"\u039c\u03b1\u03ce", 3},
    {u8"\u0391\u03c0\u03c1", 4},
    {u8"\u039c\u03ac\u03b9", 5},
    {u8"\u039c\u03b1\u03ca", 5},
    {u8"\u039c\u03b1\u03b9", 5},
    {u8"\u0399\u03bf\u03cd\u03bd", 6},
    {u8"\u0399\u03bf\u03bd", 6},
    {u8"\u0399\u03bf\u03cd\u03bb", 7},
    {u8"\u0399\u03bf\u03bb", 7},
    {u8"\u0391\u03cd\u03b3", 8},
    {u8"\u0391\u03c5\u03b3", 8},
    {u8"\u03a3\u03b5\u03c0", 9},
    {u8"\u039f\u03ba\u03c4", 10},
    {u8"\u039d\u03bf\u03ad", 11},
    {u8"\u039d\u03bf\u03b5", 11},
    {u8"\u0394\u03b5\u03ba", 12},
    /* Hungarian (with the misspellings real feeds carried) */
    {u8"janu\u00e1r", 1},
    {u8"febru\u00e1r", 2},
    {u8"febru\u00e1ri", 2},
    {u8"m\u00e1rcius", 3},
    {u8"\u00e1prilis", 4},
    {u8"m\u00e1jus", 5},
    {u8"m\u00e1ujus", 5},
    {u8"j\u00fanius", 6},
    {u8"j\u00falius", 7},
    {u8"okt\u00f3ber", 10},
};

static const char *const date_wdays_greek[] = {
    u8"\u039a\u03c5\u03c1", u8"\u0394\u03b5\u03c5", u8"\u03a4\u03c1\u03b9", u8"\u03a4\u03b5\u03c4",
    u8"\u03a0\u03b5\u03bc", u8"\u03a0\u03b1\u03c1", u8"\u03a3\u03b1\u03b2",
};

/* Zone names, lower case, in minutes east of UTC.  Military letters are computed. */
static const struct name_value date_zones[] = {
    {"ut", 0},     {"utc", 0},     {"gmt", 0},     {"z", 0},      {"wet", 0},    {"west", 60},
    {"bst", 60},   {"cet", 60},    {"met", 60},    {"mez", 60},   {"cest", 120}, {"mest", 120},
    {"mesz", 120}, {"eet", 120},   {"eest", 180},  {"msk", 180},  {"hkt", 480},  {"awst", 480},
    {"jst", 540},  {"kst", 540},   {"acst", 570},  {"acdt", 630}, {"aest", 600}, {"aedt", 660},
    {"nzst", 720}, {"nzdt", 780},  {"nst", -210},  {"ndt", -150}, {"adt", -180}, {"ast", -240},
    {"at", -240},  {"edt", -240},  {"est", -300},  {"et", -300},  {"cdt", -300}, {"cst", -360},
    {"ct", -360},  {"mdt", -360},  {"mst", -420},  {"mt", -420},  {"pdt", -420}, {"pst", -480},
    {"pt", -480},  {"akdt", -480}, {"akst", -540}, {"hst", -600},
};

/* Korean markers (UTF-8): year, month, day, a.m., p.m. */
#define KO_YEAR u8"\ub144"
#define KO_MONTH u8"\uc6d4"
#define KO_DAY u8"\uc77c"
#define KO_AM u8"\uc624\uc804"
#define KO_PM u8"\uc624\ud6c4"

/* ---- characters ---- */

static bool date_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the space at p: ASCII white space, or a no-break space (&nbsp; in UTF-8). */
static size_t date_space(const char *p)
{
	char c = *p;

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
		return 1;
	return (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0 ? 2 : 0;
}

static bool date_isascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Letters of any script: ASCII letters and every byte of a multibyte sequence. */
static bool date_isletter(char c)
{
	return date_isascii_alpha(c) || (unsigned char)c >= 0x80;
}

static char date_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static const char *date_skip_ws(const char *p)
{
	while (date_space(p))
		p += date_space(p);
	return p;
}

static size_t date_ndigits(const char *p)
{
	size_t n = 0;

	while (date_isdigit(p[n]))
		n++;
	return n;
}

/* Value of exactly n digits at p (n <= 9). */
static int date_num(const char *p, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* Case-insensitive (ASCII) comparison of p[0..n) with the NUL-terminated lower-case s. */
static bool date_word_is(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n && s[i]; i++)
		if (date_lower(p[i]) != s[i])
			return false;
	return i == n && !s[i];
}

static bool date_bytes_are(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

static const char *date_skip_prefix(const char *p, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(p, prefix, n) == 0 ? p + n : NULL;
}

/* ---- names ---- */

/* English by their first three letters (as feeds abbreviate and misspell), else localized. */
static int date_month_lookup(const char *p, size_t n)
{
	bool ascii = true;

	for (size_t i = 0; i < n; i++)
		ascii = ascii && date_isascii_alpha(p[i]);
	if (ascii && n >= 3) {
		for (int m = 0; m < 12; m++)
			if (date_word_is(p, 3, date_months[m]))
				return m + 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof(date_months_intl) / sizeof(date_months_intl[0]); i++)
		if (date_bytes_are(p, n, date_months_intl[i].name))
			return date_months_intl[i].value;
	return 0;
}

static bool date_wday_lookup(const char *p, size_t n)
{
	if (n >= 3 && date_isascii_alpha(p[0])) {
		for (int d = 0; d < 7; d++)
			if (date_word_is(p, 3, date_wdays[d]))
				return true;
		return false;
	}
	for (size_t i = 0; i < sizeof(date_wdays_greek) / sizeof(date_wdays_greek[0]); i++)
		if (date_bytes_are(p, n, date_wdays_greek[i]))
			return true;
	return false;
}

/* Minutes east of UTC for a zone name; false when unknown. */
static bool date_zone_lookup(const char *p, size_t n, int *minutes)
{
	if (n == 1 && date_isascii_alpha(*p)) {
		char c = date_lower(*p);

		if (c == 'j')
			return false;
		if (c == 'z')
			*minutes = 0;
		else if (c < 'j')
			*minutes = -60 * (c - 'a' + 1);
		else if (c <= 'm')
			*minutes = -60 * (c - 'a');
		else
			*minutes = 60 * (c - 'n' + 1);
		return true;
	}
	for (size_t i = 0; i < sizeof(date_zones) / sizeof(date_zones[0]); i++) {
		if (date_word_is(p, n, date_zones[i].name)) {
			*minutes = date_zones[i].value;
			return true;
		}
	}
	return false;
}

/* ---- zones ---- */

/*
 * "+hh", "+h", "+hhmm", "+hmm", "+hh:mm" (and "-").  Returns the end, or
 * NULL when this is no numeric offset.
 */
static const char *date_offset(const char *p, int *offset)
{
	int sign, h, m = 0;
	size_t n;

	if (*p != '+' && *p != '-')
		return NULL;
	sign = *p == '-' ? -1 : 1;
	p++;
	n = date_ndigits(p);
	if (n == 1 || n == 2) {
		h = date_num(p, n);
		p += n;
		if (*p == ':') {
			if (date_ndigits(p + 1) != 2)
				return NULL;
			m = date_num(p + 1, 2);
			p += 3;
		}
	} else if (n == 3 || n == 4) {
		h = date_num(p, n - 2);
		m = date_num(p + n - 2, 2);
		p += n;
	} else {
		return NULL;
	}
	*offset = sign * (h * 3600 + m * 60);
	return p;
}

enum date_zone_kind { DATE_ZONE_BAD, DATE_ZONE_KNOWN, DATE_ZONE_UNKNOWN };

/*
 * A zone that ends at end: "Z", "+0100", "-05:00", "EST", "GMT+1",
 * "UTC-05:00", "Etc/GMT".  An unknown name yields UTC and
 * DATE_ZONE_UNKNOWN; a malformed offset DATE_ZONE_BAD.
 */
static enum date_zone_kind date_zone(const char *p, const char *end, int *offset)
{
	const char *w;
	int minutes;

	*offset = 0;
	if (end - p > 4 && date_word_is(p, 4, "etc/"))
		p += 4;
	if (*p == '+' || *p == '-')
		return date_offset(p, offset) == end ? DATE_ZONE_KNOWN : DATE_ZONE_BAD;
	for (w = p; w < end && date_isletter(*w);)
		w++;
	if (w == p)
		return DATE_ZONE_UNKNOWN;
	if (w < end && (*w == '+' || *w == '-')) {
		if (!date_word_is(p, (size_t)(w - p), "gmt") &&
		    !date_word_is(p, (size_t)(w - p), "utc") &&
		    !date_word_is(p, (size_t)(w - p), "ut"))
			return DATE_ZONE_UNKNOWN;
		return date_offset(w, offset) == end ? DATE_ZONE_KNOWN : DATE_ZONE_BAD;
	}
	if (w == end && date_zone_lookup(p, (size_t)(w - p), &minutes)) {
		*offset = minutes * 60;
		return DATE_ZONE_KNOWN;
	}
	return DATE_ZONE_UNKNOWN;
}

/* ---- calendar ---- */

static bool date_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int date_month_days(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && date_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (years in 400-year eras). */
static int64_t date_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                   /* 0..399, years starting in March */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
	return era * 146097 + doe - 719468;
}

static void date_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Day ordinal (1-based) of year y into month and day; false when out of range. */
static bool date_set_ordinal(struct date_fields *f, int ordinal)
{
	if (ordinal < 1 || ordinal > (date_leap(f->year) ? 366 : 365))
		return false;
	f->month = 1;
	while (ordinal > date_month_days(f->year, f->month))
		ordinal -= date_month_days(f->year, f->month++);
	f->day = ordinal;
	return true;
}

/* ISO week date: week 1 holds the year's first Thursday; weekday 1 = Monday. */
static bool date_set_week(struct date_fields *f, int week, int wday)
{
	int64_t jan4 = date_days_from_civil(f->year, 1, 4);
	int jan4_wday = (int)(((jan4 % 7) + 7 + 3) % 7) + 1; /* 1970-01-01 was a Thursday */
	int64_t jan1 = jan4 - 3;
	int jan1_wday = (int)(((jan1 % 7) + 7 + 3) % 7) + 1;
	int weeks = (jan1_wday == 4 || (jan1_wday == 3 && date_leap(f->year))) ? 53 : 52;
	int64_t day;

	if (week < 1 || week > weeks || wday < 1 || wday > 7)
		return false;
	day = jan4 - (jan4_wday - 1) + (week - 1) * 7 + (wday - 1);
	date_civil_from_days(day, &f->year, &f->month, &f->day);
	return true;
}

static void date_fields_init(struct date_fields *f)
{
	f->year = 0;
	f->month = f->day = 1;
	f->hour = f->minute = f->second = 0;
	f->offset = 0;
	f->ampm = 0;
}

/* Validates and converts; false when a field is out of range. */
static bool date_fields_to_time(struct date_fields *f, int64_t *out)
{
	int64_t t;

	if (f->ampm) {
		if (f->hour < 1 || f->hour > 12)
			return false;
		if (f->hour == 12)
			f->hour = 0;
		if (f->ampm == 2)
			f->hour += 12;
	}
	if (f->year < 0 || f->year > 9999 || f->month < 1 || f->month > 12 || f->day < 1 ||
	    f->day > date_month_days(f->year, f->month))
		return false;
	if (f->hour > 24 || f->minute > 59 || f->second > 60 ||
	    (f->hour == 24 && (f->minute || f->second)))
		return false;
	t = date_days_from_civil(f->year, f->month, f->day) * 86400 + f->hour * 3600 +
	    f->minute * 60 + f->second - f->offset;
	if (t < DATE_MIN || t > DATE_MAX)
		return false;
	*out = t;
	return true;
}

/* After a complete date: nothing, or a parenthesized comment. */
static bool date_at_end(const char *p)
{
	p = date_skip_ws(p);
	return *p == '\0' || *p == '(';
}

/* ---- ISO 8601 / W3C-DTF / RFC 3339 / MSSQL ---- */

/* "-YY-MM", "-YYMM" (and "-YY-MM-DD"): years of this century. */
static const char *date_iso_dash_year(const char *p, struct date_fields *f)
{
	if (date_ndigits(p + 1) != 2 && date_ndigits(p + 1) != 4)
		return NULL;
	f->year = 2000 + date_num(p + 1, 2);
	p += 3;
	if (*p == '-')
		p++;
	if (date_ndigits(p) != 2)
		return NULL;
	f->month = date_num(p, 2);
	p += 2;
	if (*p == '-' && date_ndigits(p + 1) == 2) {
		f->day = date_num(p + 1, 2);
		p += 3;
	}
	return p;
}

/* "Www" or "Www-D" or "WwwD" after a year. */
static const char *date_iso_week(const char *p, struct date_fields *f, bool basic)
{
	int week, wday = 1;

	if ((*p != 'W' && *p != 'w') || date_ndigits(p + 1) < 2)
		return NULL;
	week = date_num(p + 1, 2);
	p += 3;
	if (!basic && *p == '-' && date_ndigits(p + 1) == 1) {
		wday = p[1] - '0';
		p += 2;
	} else if (date_ndigits(p) == 1) {
		wday = *p - '0';
		p++;
	} else if (date_isdigit(*p)) {
		return NULL;
	}
	return date_set_week(f, week, wday) ? p : NULL;
}

/* What follows "YYYY-": month, month-day, ordinal, week, Google's "012", Hungarian names. */
static const char *date_iso_after_year(const char *p, struct date_fields *f)
{
	size_t n = date_ndigits(p);

	if (n == 0) {
		size_t w = 0;

		if (*p == 'W' || *p == 'w')
			return date_iso_week(p, f, false);
		while (date_isletter(p[w]))
			w++;
		if (!w || !(f->month = date_month_lookup(p, w)) || p[w] != '-')
			return NULL;
		p += w + 1;
		n = date_ndigits(p);
		if (n < 1 || n > 2)
			return NULL;
		f->day = date_num(p, n);
		return p + n;
	}
	if (n == 3 && p[3] == '-' && p[0] == '0') { /* Google's "2003-012-31" */
		p++;
		n = 2;
	} else if (n == 3) {
		return date_set_ordinal(f, date_num(p, 3)) ? p + 3 : NULL;
	}
	if (n > 2)
		return NULL;
	f->month = date_num(p, n);
	p += n;
	if (*p == '-' && date_isdigit(p[1])) {
		n = date_ndigits(p + 1);
		if (n > 2)
			return NULL;
		f->day = date_num(p + 1, n);
		p += 1 + n;
	}
	return p;
}

/* The date part; returns its end or NULL. */
static const char *date_iso_date(const char *p, struct date_fields *f)
{
	size_t n = date_ndigits(p);

	if (*p == '-')
		return date_iso_dash_year(p, f);
	switch (n) {
	case 2: /* "03-12-31", "03-335" */
		if (p[2] != '-')
			return NULL;
		f->year = 2000 + date_num(p, 2);
		p += 3;
		n = date_ndigits(p);
		if (n == 3)
			return date_set_ordinal(f, date_num(p, 3)) ? p + 3 : NULL;
		if (n != 2 || p[2] != '-' || date_ndigits(p + 3) != 2)
			return NULL;
		f->month = date_num(p, 2);
		f->day = date_num(p + 3, 2);
		return p + 5;
	case 4:
		f->year = date_num(p, 4);
		p += 4;
		if (*p == '-')
			return date_iso_after_year(p + 1, f);
		if (*p == 'W' || *p == 'w')
			return date_iso_week(p, f, true);
		return p;
	case 5: /* "03335" */
		f->year = 2000 + date_num(p, 2);
		return date_set_ordinal(f, date_num(p + 2, 3)) ? p + 5 : NULL;
	case 6: /* "031231" */
		f->year = 2000 + date_num(p, 2);
		f->month = date_num(p + 2, 2);
		f->day = date_num(p + 4, 2);
		return p + 6;
	case 7: /* "2003335" */
		f->year = date_num(p, 4);
		return date_set_ordinal(f, date_num(p + 4, 3)) ? p + 7 : NULL;
	case 8: /* "20031231" */
		f->year = date_num(p, 4);
		f->month = date_num(p + 4, 2);
		f->day = date_num(p + 6, 2);
		return p + 8;
	default:
		return NULL;
	}
}

/* A fraction of a second, ignored. */
static const char *date_skip_fraction(const char *p)
{
	if ((*p == '.' || *p == ',') && date_isdigit(p[1]))
		p += 1 + date_ndigits(p + 1);
	return p;
}

/* "hh:mm:ss", "h:mm", "hh", "hhmm", "hhmmss", each with an optional fraction. */
static const char *date_iso_time(const char *p, struct date_fields *f)
{
	size_t n = date_ndigits(p);

	if ((n == 1 || n == 2) && p[n] == ':') {
		f->hour = date_num(p, n);
		p += n + 1;
		n = date_ndigits(p);
		if (n < 1 || n > 2)
			return NULL;
		f->minute = date_num(p, n);
		p += n;
		if (*p == ':') {
			n = date_ndigits(p + 1);
			if (n < 1 || n > 2)
				return NULL;
			f->second = date_num(p + 1, n);
			p += 1 + n;
		}
	} else if (n == 2 || n == 4 || n == 6) {
		f->hour = date_num(p, 2);
		if (n >= 4)
			f->minute = date_num(p + 2, 2);
		if (n == 6)
			f->second = date_num(p + 4, 2);
		p += n;
	} else {
		return NULL;
	}
	return date_skip_fraction(p);
}

/* Korean a.m. / p.m. marker at p: returns its end, or NULL. */
static const char *date_korean_ampm(const char *p, int *ampm)
{
	const char *q;

	if ((q = date_skip_prefix(p, KO_AM)) != NULL)
		*ampm = 1;
	else if ((q = date_skip_prefix(p, KO_PM)) != NULL)
		*ampm = 2;
	return q;
}

/* An "am" / "pm" word at p after optional spaces; returns its end, or p. */
static const char *date_ampm(const char *p, int *ampm)
{
	const char *q = date_skip_ws(p);
	char c = date_lower(q[0]);

	if ((c == 'a' || c == 'p') && date_lower(q[1]) == 'm' && !date_isletter(q[2])) {
		*ampm = c == 'a' ? 1 : 2;
		return q + 2;
	}
	return p;
}

/* The end of a zone token: up to a space, '(' or the end. */
static const char *date_token_end(const char *p)
{
	while (*p && !date_space(p) && *p != '(')
		p++;
	return p;
}

/*
 * An optional zone after an ISO date or time: "Z", "+01:00" right after,
 * or after spaces a name or offset.  Without a time, only a known zone is
 * taken (so "2004 foo" is not a date).  Returns the end or NULL.
 */
static const char *date_iso_zone(const char *p, struct date_fields *f, bool have_time)
{
	const char *q = p, *end;
	enum date_zone_kind k;

	if ((*q == 'Z' || *q == 'z') && !date_isascii_alpha(q[1])) {
		f->offset = 0;
		return q + 1;
	}
	if (*q != '+' && *q != '-') {
		q = date_skip_ws(q);
		if (q == p || !*q || *q == '(')
			return p;
	}
	if ((*q == '+' || *q == '-') && !have_time)
		return NULL;
	end = date_token_end(q);
	k = date_zone(q, end, &f->offset);
	if (k == DATE_ZONE_BAD || (k == DATE_ZONE_UNKNOWN && !have_time))
		return NULL;
	return end;
}

static bool date_parse_iso(const char *p, struct date_fields *f)
{
	bool have_time = false, korean = false;
	const char *q;

	date_fields_init(f);
	p = date_iso_date(p, f);
	if (!p)
		return false;
	if (*p == 'T' || *p == 't') {
		p = date_iso_time(p + 1, f);
		if (!p)
			return false;
		have_time = true;
	} else if (date_space(p)) {
		q = date_skip_ws(p);
		if (date_korean_ampm(q, &f->ampm)) { /* Nate: "2004-05-25 오후 11:23:17" */
			korean = true;
			f->offset = KOREAN_OFFSET;
			q = date_skip_ws(date_korean_ampm(q, &f->ampm));
		}
		if (date_isdigit(*q)) {
			p = date_iso_time(q, f);
			if (!p)
				return false;
			have_time = true;
		} else if (korean) {
			return false;
		}
	}
	if (have_time && !korean)
		p = date_ampm(p, &f->ampm);
	p = date_iso_zone(p, f, have_time);
	return p && date_at_end(p);
}

/* Korean OnBlog: "2004년 05월 28일  01:31:15", Korean time. */
static bool date_parse_onblog(const char *p, struct date_fields *f)
{
	static const char *const marks[3] = {KO_YEAR, KO_MONTH, KO_DAY};
	int v[3];

	date_fields_init(f);
	for (int i = 0; i < 3; i++) {
		size_t n = date_ndigits(p);

		if (n < 1 || n > 4)
			return false;
		v[i] = date_num(p, n);
		p = date_skip_prefix(p + n, marks[i]);
		if (!p)
			return false;
		p = date_skip_ws(p);
	}
	f->year = v[0];
	f->month = v[1];
	f->day = v[2];
	f->offset = KOREAN_OFFSET;
	p = date_iso_time(p, f);
	return p && date_at_end(p);
}

/* ---- RFC 822 and relatives, by tokens ---- */

#define DATE_MAX_TOKENS 10

struct date_tok {
	const char *p;
	size_t n;
};

/* "06-Nov-94" (RFC 850): a token starting with a digit with a letter after a dash. */
static bool date_tok_dashed(const char *p, size_t n)
{
	if (!date_isdigit(*p))
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '-' && date_isletter(p[i + 1]))
			return true;
	return false;
}

/*
 * Splits at spaces and commas, and RFC 850 dates at their dashes; stops
 * at a '(' comment.  Returns the number of tokens.
 */
static size_t date_tokenize(const char *s, struct date_tok *t, size_t max)
{
	size_t n = 0;

	while (n < max) {
		const char *b;

		s = date_skip_ws(s);
		while (*s == ',')
			s = date_skip_ws(s + 1);
		if (!*s || *s == '(')
			break;
		for (b = s; *s && !date_space(s) && *s != ',' && *s != '(';)
			s++;
		if (!date_tok_dashed(b, (size_t)(s - b))) {
			t[n].p = b;
			t[n++].n = (size_t)(s - b);
			continue;
		}
		while (b < s && n < max) {
			const char *e = memchr(b, '-', (size_t)(s - b));

			if (!e)
				e = s;
			t[n].p = b;
			t[n++].n = (size_t)(e - b);
			b = e < s ? e + 1 : s;
		}
	}
	return n;
}

/* Number of digits when the token is all digits (at most 4), else 0. */
static size_t date_tok_digits(const struct date_tok *t)
{
	size_t n = date_ndigits(t->p);

	return n == t->n && n <= 4 ? n : 0;
}

/* A day of the month: one or two digits, maybe "1st", "22nd", "3rd", "4th"; else 0. */
static int date_tok_day(const struct date_tok *t)
{
	static const char *const suffixes[] = {"st", "nd", "rd", "th"};
	size_t n = date_ndigits(t->p);

	if (n < 1 || n > 2 || n > t->n)
		return 0;
	if (n == t->n)
		return date_num(t->p, n);
	for (size_t i = 0; i < 4; i++)
		if (t->n == n + 2 && date_word_is(t->p + n, 2, suffixes[i]))
			return date_num(t->p, n);
	return 0;
}

/* Length of the word in the token when it is a word, allowing one trailing '.'. */
static size_t date_tok_word(const struct date_tok *t)
{
	size_t n = 0;

	while (n < t->n && date_isletter(t->p[n]))
		n++;
	if (n == t->n || (n + 1 == t->n && t->p[n] == '.'))
		return n;
	return 0;
}

static int date_tok_month(const struct date_tok *t)
{
	size_t n = date_tok_word(t);

	return n ? date_month_lookup(t->p, n) : 0;
}

static bool date_tok_wday(const struct date_tok *t)
{
	size_t n = date_tok_word(t);

	return n && date_wday_lookup(t->p, n);
}

static bool date_tok_has_colon(const struct date_tok *t)
{
	return memchr(t->p, ':', t->n) != NULL;
}

/* RFC 2822 section 4.3: 00-49 are 2000-2049, 50-999 are 1950-2899. */
static int64_t date_rfc_year(const struct date_tok *t)
{
	int64_t y = date_num(t->p, t->n);

	if (t->n == 1 || t->n == 2)
		return y < 50 ? y + 2000 : y + 1900;
	if (t->n == 3)
		return y + 1900;
	return y;
}

/* Perforce's "2006/09/15". */
static bool date_tok_slash_date(const struct date_tok *t, struct date_fields *f)
{
	const char *p = t->p, *end = t->p + t->n;
	size_t n = date_ndigits(p);
	int v[3];

	if (n != 4 || p[4] != '/')
		return false;
	v[0] = date_num(p, 4);
	p += 5;
	for (int i = 1; i < 3; i++) {
		n = date_ndigits(p);
		if (n < 1 || n > 2)
			return false;
		v[i] = date_num(p, n);
		p += n;
		if (i == 1 && *p++ != '/')
			return false;
	}
	if (p != end)
		return false;
	f->year = v[0];
	f->month = v[1];
	f->day = v[2];
	return true;
}

/* "h:mm", "hh:mm:ss", with a fraction, and "am"/"pm" or a zone stuck to it. */
static bool date_tok_time(const struct date_tok *t, struct date_fields *f, bool *zoned)
{
	const char *p = date_iso_time(t->p, f), *end = t->p + t->n, *q;

	if (!p || p > end || p == t->p || !memchr(t->p, ':', (size_t)(p - t->p)))
		return false;
	*zoned = false;
	if (p == end)
		return true;
	q = date_ampm(p, &f->ampm);
	if (q == end)
		return q != p;
	*zoned = true;
	return date_zone(p, end, &f->offset) == DATE_ZONE_KNOWN;
}

/*
 * [weekday] day month year [time] [zone]     RFC 822, 1123, 2822, 850
 * [weekday] month day year [time] [zone]     "Thu Aug 30 2012 17:26:16 +0200"
 * [weekday] month day time [zone] year       asctime
 * [weekday] yyyy/mm/dd [time] [zone]         Perforce
 * Anything after the zone is ignored ("+0100 (CET)").
 */
static bool date_parse_rfc(const char *s, struct date_fields *f)
{
	struct date_tok t[DATE_MAX_TOKENS];
	size_t n = date_tokenize(s, t, DATE_MAX_TOKENS), i = 0;
	bool asctime = false, have_time = false, zoned = false;
	enum date_zone_kind k;
	int ampm = 0;

	date_fields_init(f);
	if (n && date_tok_wday(&t[0]))
		i = 1;
	if (i < n && date_tok_slash_date(&t[i], f)) {
		i++;
	} else if (i + 2 < n && (f->day = date_tok_day(&t[i])) &&
	           (f->month = date_tok_month(&t[i + 1])) && date_tok_digits(&t[i + 2])) {
		f->year = date_rfc_year(&t[i + 2]);
		i += 3;
	} else if (i + 1 < n && (f->month = date_tok_month(&t[i])) &&
	           (f->day = date_tok_day(&t[i + 1]))) {
		i += 2;
		if (i < n && date_tok_digits(&t[i]))
			f->year = date_rfc_year(&t[i++]);
		else
			asctime = true;
	} else {
		return false;
	}
	if (i < n && date_tok_has_colon(&t[i])) {
		if (!date_tok_time(&t[i++], f, &zoned))
			return false;
		have_time = true;
		if (i < n && !f->ampm && date_ampm(t[i].p, &ampm) == t[i].p + t[i].n) {
			f->ampm = ampm;
			i++;
		}
	} else if (asctime) {
		return false;
	}
	if (asctime) {
		if (i < n && !zoned && date_tok_digits(&t[i]) != 4) {
			if (date_zone(t[i].p, t[i].p + t[i].n, &f->offset) == DATE_ZONE_BAD)
				return false;
			i++;
		}
		if (i >= n || date_tok_digits(&t[i]) != 4)
			return false;
		f->year = date_num(t[i].p, 4);
		return true;
	}
	if (i < n && !zoned) {
		k = date_zone(t[i].p, t[i].p + t[i].n, &f->offset);
		if (k == DATE_ZONE_BAD || (k == DATE_ZONE_UNKNOWN && !have_time))
			return false;
	}
	return true;
}

/* ---- interface ---- */

bool date_parse(const char *s, int64_t *out)
{
	struct date_fields f;

	if (!s)
		return false;
	s = date_skip_ws(s);
	if (!*s)
		return false;
	if (date_parse_iso(s, &f) && date_fields_to_time(&f, out))
		return true;
	if (date_parse_onblog(s, &f) && date_fields_to_time(&f, out))
		return true;
	return date_parse_rfc(s, &f) && date_fields_to_time(&f, out);
}

static char *date_put(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/*
 * Times before 0000-01-01T00:00:00Z or after 9999-12-31T23:59:59Z are
 * clamped to those bounds (date_parse never yields them).
 */
void date_format(int64_t t, char buf[32])
{
	int64_t days, secs, y;
	int m, d;
	char *p = buf;

	if (t < DATE_MIN)
		t = DATE_MIN;
	if (t > DATE_MAX)
		t = DATE_MAX;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	date_civil_from_days(days, &y, &m, &d);
	p = date_put(p, y, 4);
	*p++ = '-';
	p = date_put(p, m, 2);
	*p++ = '-';
	p = date_put(p, d, 2);
	*p++ = 'T';
	p = date_put(p, secs / 3600, 2);
	*p++ = ':';
	p = date_put(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = date_put(p, secs % 60, 2);
	*p++ = 'Z';
	*p = '\0';
}
