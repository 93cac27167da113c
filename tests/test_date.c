/*
 * test_date.c - date_parse and date_format.
 *
 * Table-driven: each row is an input and the RFC 3339 UTC instant it must
 * give, or NULL when it must be refused.  The odd forms and their
 * instants follow the Universal Feed Parser's date handlers and tests
 * (see parsers/date.c for where and why we differ).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feed.h"

struct date_row {
	const char *in;
	const char *want; /* NULL: must not parse */
};

static const struct date_row date_rows_rfc822[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    {"Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    {"Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z"},
    {"Thu, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 UT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 UTC", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 Z", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 +0000", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 -0000", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 gmt", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 14:48:21 EST", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 15:48:21 EDT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 13:48:21 CST", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 14:48:21 CDT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 12:48:21 MST", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 13:48:21 MDT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 11:48:21 PST", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 12:48:21 PDT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 11:48:21 pst", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 18:48:21 A", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 17:48:21 B", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 10:48:21 I", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 09:48:21 K", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 07:48:21 M", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 20:48:21 N", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 21:48:21 O", "2004-01-01T19:48:21Z"},
    {"Fri, 02 Jan 2004 06:48:21 X", "2004-01-01T19:48:21Z"},
    {"Fri, 02 Jan 2004 07:48:21 Y", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 z", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 +0100", "2004-01-01T18:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 -0500", "2004-01-02T00:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 +05:30", "2004-01-01T14:18:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 +01", "2004-01-01T18:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 -03:00", "2004-01-01T22:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 +1245", "2004-01-01T07:03:21Z"},
    {"Thu, 01 Jan 2004 19:48 GMT", "2004-01-01T19:48:00Z"},
    {"01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Mon, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004", "2004-01-01T00:00:00Z"},
    {"01 Jan 2004", "2004-01-01T00:00:00Z"},
    {"01 Jan 2004 00:00 GMT", "2004-01-01T00:00:00Z"},
    {"Thu,  1 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Thu, 1 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Thu,  5 Apr 2012 10:00:00 GMT", "2012-04-05T10:00:00Z"},
    {"THU, 01 JAN 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"thu, 01 jan 2004 19:48:21 gmt", "2004-01-01T19:48:21Z"},
    {"tHu, 01 jAn 2004 19:48:21 GmT", "2004-01-01T19:48:21Z"},
    {"Thursday, 01 January 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"  Thu,   01   Jan   2004   19:48:21   GMT  ", "2004-01-01T19:48:21Z"},
    {"Thu,\t01\tJan\t2004\t19:48:21\tGMT", "2004-01-01T19:48:21Z"},
    {"Thu,01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Fri,24 Nov 2023 18:28:36 -0000", "2023-11-24T18:28:36Z"},
    {"Fri, 01 Jan 49 00:00:00 GMT", "2049-01-01T00:00:00Z"},
    {"Sun, 01 Jan 50 00:00:00 GMT", "1950-01-01T00:00:00Z"},
    {"Fri, 31 Dec 99 23:59:59 GMT", "1999-12-31T23:59:59Z"},
    {"Sat, 01 Jan 00 00:00:00 GMT", "2000-01-01T00:00:00Z"},
    {"Thu, 01 Jan 104 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Thursday, 01-Jan-04 19:48:21 GMT", "2004-01-01T19:48:21Z"},
    {"Thu Jan  1 19:48:21 2004", "2004-01-01T19:48:21Z"},
    {"Sun Jan  4 16:29:06 2004", "2004-01-04T16:29:06Z"},
    {"Sun Jan  4 16:29:06 PST 2004", "2004-01-05T00:29:06Z"},
    {"Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00Z"},
    {"Thu Aug 30 2012 17:26:16 +0200", "2012-08-30T15:26:16Z"},
    {"Thu Aug 30 2012 17:26:16 GMT+0200 (CEST)", "2012-08-30T15:26:16Z"},
    {"Thu, 01 Jan 2004 19:48:21 +0000 (GMT)", "2004-01-01T19:48:21Z"},
    {"Wed, 17 May 2006 14:26:33 +0100 (Etc/GMT)", "2006-05-17T13:26:33Z"},
    {"Wed, 19 Aug 2009 18:28:00 Etc/GMT", "2009-08-19T18:28:00Z"},
    {"Wed, 19 Feb 2012 22:40:00 GMT-01:01", "2012-02-19T23:41:00Z"},
    {"Wed, 19 Feb 2012 22:40:00 -01:01", "2012-02-19T23:41:00Z"},
    {"Thu, 01 Jan 2004 19:48:21 GMT+1", "2004-01-01T18:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 UTC-05:00", "2004-01-02T00:48:21Z"},
    {"Mon, 13 Feb, 2012 06:28:00 UTC", "2012-02-13T06:28:00Z"},
    {"Thu, 30 Apr 2015 08:57:00 MET", "2015-04-30T07:57:00Z"},
    {"Thu, 30 Apr 2015 08:57:00 MEST", "2015-04-30T06:57:00Z"},
    {"Mon, 26 January 2004 16:31:00 AT", "2004-01-26T20:31:00Z"},
    {"Mon, 26 January 2004 16:31:00 ET", "2004-01-26T21:31:00Z"},
    {"Mon, 26 January 2004 16:31:00 CT", "2004-01-26T22:31:00Z"},
    {"Mon, 26 January 2004 16:31:00 MT", "2004-01-26T23:31:00Z"},
    {"Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z"},
    {"Mon, 26 January 2004 16:31:00 EST", "2004-01-26T21:31:00Z"},
    {"Thu, 01 Jan 2004 19:48:21 XYZ", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 20:48:21 CET", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jul 2004 20:48:21 BST", "2004-07-01T19:48:21Z"},
    {"Fri, 02 Jan 2004 04:48:21 JST", "2004-01-01T19:48:21Z"},
    {"Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z"},
    {"2006/09/15 08:19:53", "2006-09-15T08:19:53Z"},
    {"Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
    {"Mon, 5 May 2008 4:30:00 PDT", "2008-05-05T11:30:00Z"},
    {"Apr 26, 2013 11:30:00 AM EST", "2013-04-26T16:30:00Z"},
    {"Apr 26, 2013 11:30:00 PM EST", "2013-04-27T04:30:00Z"},
    {"Apr 26, 2013 12:05 AM GMT", "2013-04-26T00:05:00Z"},
    {"Apr 26, 2013 12:05 PM GMT", "2013-04-26T12:05:00Z"},
    {"Apr 26, 2013 4:05pm GMT", "2013-04-26T16:05:00Z"},
    {"June 10, 2003", "2003-06-10T00:00:00Z"},
    {"Sept. 10, 2003", "2003-09-10T00:00:00Z"},
    {"10 Sept 2003 10:00 +0000", "2003-09-10T10:00:00Z"},
    {"Sat, 31 Dec 2016 23:59:60 GMT", "2017-01-01T00:00:00Z"},
    {"Sun, 29 Feb 2004 12:00:00 GMT", "2004-02-29T12:00:00Z"},
    {"Tue, 29 Feb 2000 12:00:00 GMT", "2000-02-29T12:00:00Z"},
    {"Thu, 01 Jan 0100 00:00:01 +0100", "0099-12-31T23:00:01Z"},
    {"Thu, 01 Jan 2004 24:00:00 GMT", "2004-01-02T00:00:00Z"},
    {"Thu, 01 Jan 2004 19:48:21.123 GMT", "2004-01-01T19:48:21Z"},
    {"June 10th, 2003", "2003-06-10T00:00:00Z"},
    /* no-break spaces (&nbsp;) */
    {"Thu,\302\24001\302\240Jan\302\2402004 19:48:21\302\240GMT\302\240", "2004-01-01T19:48:21Z"},
    {"Tuesday, June 1st, 2004 4:00 PM EDT", "2004-06-01T20:00:00Z"},
    {"Sat, 22nd Mar 2008 3:04 am GMT", "2008-03-22T03:04:00Z"},
    {"Apr 26, 2013 13:30:00 am5", "2013-04-26T13:30:00Z"},
    {"Thu, 01 Jan 2004 19:48:21 +0000(GMT)", "2004-01-01T19:48:21Z"},
    {"Tue, 10 Jun 2003 04:00:00GMT", "2003-06-10T04:00:00Z"},
    {"Tue, 10 Jun 2003 04:00:00-0400", "2003-06-10T08:00:00Z"},
    {"Tue, 10-Jun-2003 04:00:00 GMT", "2003-06-10T04:00:00Z"},
    {"Tue 10 Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"},
    {"Tue. 10 Jun. 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"},
    {"Thu, 01 Jan 2004 19:48:21 GMT+05:30", "2004-01-01T14:18:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 UTC+0", "2004-01-01T19:48:21Z"},
    {"Thu, 01 Jan 2004 19:48:21 +0000 +0000", "2004-01-01T19:48:21Z"},
    /* Greek: Κυρ, 11 Ιούλ 2004 */
    {"\316\232\317\205\317\201, 11 \316\231\316\277\317\215\316\273 2004 12:00:00 EST",
     "2004-07-11T17:00:00Z"},
    /* Greek: Πεμ, 01 Ιαν 2004 */
    {"\316\240\316\265\316\274, 01 \316\231\316\261\316\275 2004 19:48:21 GMT",
     "2004-01-01T19:48:21Z"},
    /* Greek: Σαβ, 01 Μαϊ 2004 */
    {"\316\243\316\261\316\262, 01 \316\234\316\261\317\212 2004 00:00:00 GMT",
     "2004-05-01T00:00:00Z"},
};

static const struct date_row date_rows_iso8601[] = {
    {"2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z"},
    {"2003-12-31T10:14:55-08:00", "2003-12-31T18:14:55Z"},
    {"2003-12-31T18:14:55+08:00", "2003-12-31T10:14:55Z"},
    {"2007-04-23T23:25:47.538+10:00", "2007-04-23T13:25:47Z"},
    {"2003-12-31", "2003-12-31T00:00:00Z"},
    {"2003-12", "2003-12-01T00:00:00Z"},
    {"2003", "2003-01-01T00:00:00Z"},
    {"2004-02-28T18:14:55-08:00", "2004-02-29T02:14:55Z"},
    {"2003-02-28T18:14:55-08:00", "2003-03-01T02:14:55Z"},
    {"2000-02-28T18:14:55-08:00", "2000-02-29T02:14:55Z"},
    {"1900-02-28T18:14:55-08:00", "1900-03-01T02:14:55Z"},
    {"20031215T142213Z", "2003-12-15T14:22:13Z"},
    {"20031215T1422Z", "2003-12-15T14:22:00Z"},
    {"20031215T142213+0100", "2003-12-15T13:22:13Z"},
    {"2003-12-15T14:22:13+01:00", "2003-12-15T13:22:13Z"},
    {"2003-12-15T14:22:13.123Z", "2003-12-15T14:22:13Z"},
    {"2003-12-15T14:22:13,5Z", "2003-12-15T14:22:13Z"},
    {"2003-12-15 14:22:13", "2003-12-15T14:22:13Z"},
    {"2003-12-15t14:22:13z", "2003-12-15T14:22:13Z"},
    {"2003-12-15T14:22:13+0100", "2003-12-15T13:22:13Z"},
    {"2003-12-15T14:22:13+01", "2003-12-15T13:22:13Z"},
    {"2003-12-15T14:22:13 +01:00", "2003-12-15T13:22:13Z"},
    {"2003-12-15T14:22Z", "2003-12-15T14:22:00Z"},
    {"2003-12-15T14:22", "2003-12-15T14:22:00Z"},
    {"2003-12-15T14Z", "2003-12-15T14:00:00Z"},
    {"2003-12-15T14:22:13", "2003-12-15T14:22:13Z"},
    {"2003-12-15T14:22:13-00:00", "2003-12-15T14:22:13Z"},
    {"2003-12-15T9:05:01Z", "2003-12-15T09:05:01Z"},
    {"2003-335", "2003-12-01T00:00:00Z"},
    {"2004-366", "2004-12-31T00:00:00Z"},
    {"2003-001", "2003-01-01T00:00:00Z"},
    {"2003335", "2003-12-01T00:00:00Z"},
    {"20031231", "2003-12-31T00:00:00Z"},
    {"2003-W01-1", "2002-12-30T00:00:00Z"},
    {"2004-W53-6", "2005-01-01T00:00:00Z"},
    {"2009W011", "2008-12-29T00:00:00Z"},
    {"2003-W50", "2003-12-08T00:00:00Z"},
    {"2003-W50-3T12:00:00Z", "2003-12-10T12:00:00Z"},
    {"-0312", "2003-12-01T00:00:00Z"},
    {"031231", "2003-12-31T00:00:00Z"},
    {"03-12-31", "2003-12-31T00:00:00Z"},
    {"-03-12", "2003-12-01T00:00:00Z"},
    {"03335", "2003-12-01T00:00:00Z"},
    {"2003-012-31T10:14:55+00:00", "2003-12-31T10:14:55Z"},
    {"2004-07-08 23:56:58 -00:20", "2004-07-09T00:16:58Z"},
    {"2004-07-08 23:56:58", "2004-07-08T23:56:58Z"},
    {"2004-07-08 23:56:58.0", "2004-07-08T23:56:58Z"},
    {"2004-07-08 23:56:58 EST", "2004-07-09T04:56:58Z"},
    {"2004-07-08 23:56:58Z", "2004-07-08T23:56:58Z"},
    {"2004-07-08  23:56:58  +0200", "2004-07-08T21:56:58Z"},
    {"2003-12-31T23:59:60Z", "2004-01-01T00:00:00Z"},
    {"2003-12-31T24:00:00Z", "2004-01-01T00:00:00Z"},
    {"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
    {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
    {"2038-01-19T03:14:08Z", "2038-01-19T03:14:08Z"},
    {"1600-02-29T00:00:00Z", "1600-02-29T00:00:00Z"},
    {"2003-12-31T10:14:55.1234Z", "2003-12-31T10:14:55Z"},
    {"2003-12-31T10:14:55.999999999Z", "2003-12-31T10:14:55Z"},
    {"2002-10-13T09:00+01:00", "2002-10-13T08:00:00Z"},
    {"2003-12-31T10:14:55Z (approx)", "2003-12-31T10:14:55Z"},
    {"2003-12-31Z", "2003-12-31T00:00:00Z"},
    {"  2003-12-31T10:14:55Z \n", "2003-12-31T10:14:55Z"},
    {"2004-05-25 11:23:17 PM", "2004-05-25T23:23:17Z"},
    {"2003-12-31T10:14:55 GMT", "2003-12-31T10:14:55Z"},
    {"2003-12-31T10:14:55 PST", "2003-12-31T18:14:55Z"},
    {"2003-1-5", "2003-01-05T00:00:00Z"},
    {"2003-12-31 EST", "2003-12-31T05:00:00Z"},
    /* Korean (Nate): 2004-05-25 오후 (p.m.) 11:23:17, Korean time */
    {"2004-05-25 \354\230\244\355\233\204 11:23:17", "2004-05-25T14:23:17Z"},
    /* Korean (Nate): 2004-05-25 오전 (a.m.) 11:23:17, Korean time */
    {"2004-05-25 \354\230\244\354\240\204 11:23:17", "2004-05-25T02:23:17Z"},
    /* Korean (OnBlog): 2004년 05월 28일 01:31:15, Korean time */
    {"2004\353\205\204 05\354\233\224 28\354\235\274  01:31:15", "2004-05-27T16:31:15Z"},
    /* Hungarian: 2004-július-13T9:15-05:00 */
    {"2004-j\303\272lius-13T9:15-05:00", "2004-07-13T14:15:00Z"},
    /* Hungarian: 2004-október-02 */
    {"2004-okt\303\263ber-02T10:00+01:00", "2004-10-02T09:00:00Z"},
    {"2004-Jul-13", "2004-07-13T00:00:00Z"},
    {"22013", "2022-01-13T00:00:00Z"},
    /* no-break spaces (&nbsp;) */
    {"\302\2402003-12-31T10:14:55Z\302\240", "2003-12-31T10:14:55Z"},
    {"2003-06-10T04:00:00.000Z", "2003-06-10T04:00:00Z"},
    {"2003-06-10 04:00:00+02", "2003-06-10T02:00:00Z"},
    {"2003-06-10T04:00:00.5-03:30", "2003-06-10T07:30:00Z"},
    {"2004-12-31T23:59:59-12:00", "2005-01-01T11:59:59Z"},
    {"2005-01-01T00:00:00+14:00", "2004-12-31T10:00:00Z"},
};

static const struct date_row date_rows_invalid[] = {
    {"", NULL},
    {"   ", NULL},
    {"foo", NULL},
    {"now", NULL},
    {"yesterday", NULL},
    {"Thu", NULL},
    {"12:00:00", NULL},
    {"1234567890", NULL},
    {"Jan 2004", NULL},
    {"Thu, 01 Jan", NULL},
    {"Sun, 16 Dec 2012 1:2:3:4 GMT", NULL},
    {"Sun, 16 zzz 2012 11:47:32 GMT", NULL},
    {"Sun, Dec x 2012 11:47:32 GMT", NULL},
    {"Sun, 16 Dec zz 11:47:32 GMT", NULL},
    {"Sun, 16 Dec 2012 11:47:32 +zz:00", NULL},
    {"Sun, 16 Dec 2012 11:47:32 +00:zz", NULL},
    {"Sun, 99 Jun 2009 12:00:00 GMT", NULL},
    {"Sun, 31 Dec 9999 23:59:59 -9999", NULL},
    {"Thu, 31 Jun 2004 19:48:21 GMT", NULL},
    {"Thu, 00 Jan 2004 19:48:21 GMT", NULL},
    {"Thu, 29 Feb 2003 19:48:21 GMT", NULL},
    {"Thu, 01 Foo 2004 19:48:21 GMT", NULL},
    {"Thu, 01 Jan 2004 19:48:21 +", NULL},
    {"Thu, 01 Jan 2004 19:48:21 GMT+zz", NULL},
    {"Thu, 01 Jan 2004 25:00:00 GMT", NULL},
    {"Thu, 01 Jan 2004 19:60:00 GMT", NULL},
    {"Thu, 01 Jan 2004 19:48:61 GMT", NULL},
    {"Thu, 01 Jan 2004 13:00:00 PM", NULL},
    {"Thu, 01 Jan 2004 00:30:00 AM", NULL},
    {"Thu, 01 Jan 2004 foo", NULL},
    {"Thu, 01 Jan 2004 19:48:21 +01:0", NULL},
    {"Sun Jan  4 16:29:06", NULL},
    {"Sun Jan  4 16:29:06 PST", NULL},
    {"Thu, 01 Jan 12345 19:48:21 GMT", NULL},
    {"9999-12-31T23:59:59-99:99", NULL},
    {"2003-12-31T25:14:55Z", NULL},
    {"2003-12-31T10:61:55Z", NULL},
    {"2003-12-31T10:14:61Z", NULL},
    {"2003-12-31T24:00:01Z", NULL},
    {"2003-12-31T23:60:00Z", NULL},
    {"013", NULL},
    {"2013-01-27-01", NULL},
    {"2013-01-28T11:30:00-06:00Textra", NULL},
    {"2013-xx-27", NULL},
    {"2013-01-28T09:xx:00Z", NULL},
    {"2013-01-28T09:00:00+00:xx", NULL},
    {"2003-13-01", NULL},
    {"2003-00-10", NULL},
    {"2003-02-29", NULL},
    {"2004-02-30", NULL},
    {"2003-04-31", NULL},
    {"2003-12-00", NULL},
    {"2003-12-32", NULL},
    {"2003-366", NULL},
    {"2003-000", NULL},
    {"2003-W54", NULL},
    {"2003-W53-1", NULL},
    {"2003-W00-1", NULL},
    {"2003-W01-8", NULL},
    {"2003-12-31T", NULL},
    {"2003-12-31T1", NULL},
    {"2003-12-31T10:14:55+01:0", NULL},
    {"2003-12-31T10:14:55+", NULL},
    {"2003-12-31X", NULL},
    {"2004 foo", NULL},
    {"20031301", NULL},
    {"2003/13/01", NULL},
    {"-0313", NULL},
    {"0000-01-01T00:00:00+00:01", NULL},
    {"9999-12-31T23:59:59-00:01", NULL},
    {"2003-12-31T10:14:55Zulu", NULL},
    {"99999-12-31", NULL},
    /* Korean p.m. marker with no time */
    {"2004-05-25 \354\230\244\355\233\204", NULL},
    {"2004-foo-13", NULL},
    {"June 32nd, 2003", NULL},
    {"Jun 10xx, 2003", NULL},
    {"Thu, 01 Jan 2004 19:48:21 +0000-(GMT)", NULL},
};

static void check_row(const struct date_row *r)
{
	int64_t t = 42;
	char got[32];
	bool ok = date_parse(r->in, &t);

	if (!r->want) {
		ck_assert_msg(!ok, "\"%s\" parsed but must not", r->in);
		ck_assert_msg(t == 42, "\"%s\": *out written on failure", r->in);
		return;
	}
	ck_assert_msg(ok, "\"%s\" did not parse (want %s)", r->in, r->want);
	date_format(t, got);
	ck_assert_msg(strcmp(got, r->want) == 0, "\"%s\" -> %s, want %s", r->in, got, r->want);
}

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

START_TEST(test_rfc822_family_forms)
{
	check_row(&date_rows_rfc822[_i]);
}
END_TEST

START_TEST(test_iso8601_w3cdtf_and_broken_forms)
{
	check_row(&date_rows_iso8601[_i]);
}
END_TEST

START_TEST(test_invalid_forms_refused)
{
	check_row(&date_rows_invalid[_i]);
}
END_TEST

START_TEST(test_null_input_refused)
{
	int64_t t = 7;

	ck_assert(!date_parse(NULL, &t));
	ck_assert_int_eq(t, 7);
}
END_TEST

START_TEST(test_format_epoch_zero)
{
	char buf[32];

	date_format(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	ck_assert_uint_eq(strlen(buf), 20);
}
END_TEST

START_TEST(test_format_before_epoch)
{
	char buf[32];

	date_format(-1, buf);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	date_format(-86400, buf);
	ck_assert_str_eq(buf, "1969-12-31T00:00:00Z");
	date_format(INT64_C(-2208988800), buf);
	ck_assert_str_eq(buf, "1900-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_format_year_bounds)
{
	char buf[32];

	date_format(INT64_C(-62167219200), buf);
	ck_assert_str_eq(buf, "0000-01-01T00:00:00Z");
	date_format(INT64_C(253402300799), buf);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_format_clamps_outside_years_0000_9999)
{
	char buf[32];

	date_format(INT64_C(-62167219201), buf);
	ck_assert_str_eq(buf, "0000-01-01T00:00:00Z");
	date_format(INT64_MIN, buf);
	ck_assert_str_eq(buf, "0000-01-01T00:00:00Z");
	date_format(INT64_C(253402300800), buf);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
	date_format(INT64_MAX, buf);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_format_known_instants)
{
	char buf[32];

	date_format(INT64_C(951782400), buf); /* a century leap day */
	ck_assert_str_eq(buf, "2000-02-29T00:00:00Z");
	date_format(INT64_C(2147483648), buf); /* past 32-bit time_t */
	ck_assert_str_eq(buf, "2038-01-19T03:14:08Z");
	date_format(INT64_C(4107542400), buf); /* 2100 is no leap year */
	ck_assert_str_eq(buf, "2100-03-01T00:00:00Z");
}
END_TEST

/* Every format is parsed back to the same instant, across the whole range. */
START_TEST(test_format_parse_round_trip)
{
	const int64_t lo = INT64_C(-62167219200), hi = INT64_C(253402300799);
	const int64_t step = INT64_C(86400) * 97 + 3607; /* walks days, hours and seconds */
	char buf[32];
	int64_t t, back;

	for (t = lo; t <= hi; t += step) {
		date_format(t, buf);
		ck_assert_msg(date_parse(buf, &back), "%s did not parse", buf);
		ck_assert_msg(back == t, "%s -> %lld, want %lld", buf, (long long)back,
		              (long long)t);
	}
	date_format(hi, buf);
	ck_assert(date_parse(buf, &back) && back == hi);
}
END_TEST

/* Every day of a 400-year cycle, by its calendar fields, against the formatter. */
START_TEST(test_every_day_of_a_gregorian_cycle)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t expect = INT64_C(946684800); /* 2000-01-01 */
	char in[32], out[32];
	int64_t t;

	for (int y = 2000; y < 2400; y++) {
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		for (int m = 1; m <= 12; m++) {
			int n = mdays[m - 1] + (m == 2 && leap);

			for (int d = 1; d <= n; d++, expect += 86400) {
				snprintf(in, sizeof(in), "%04d-%02d-%02dT12:34:56Z", y, m, d);
				ck_assert_msg(date_parse(in, &t), "%s did not parse", in);
				ck_assert_msg(t == expect + 45296, "%s -> %lld", in, (long long)t);
				date_format(t, out);
				ck_assert_str_eq(out, in);
			}
		}
	}
}
END_TEST

/* The result is the same whatever TZ says: no libc local-time functions. */
START_TEST(test_result_independent_of_tz)
{
	int64_t a, b;

	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert(date_parse("Thu, 01 Jan 2004 19:48:21 EST", &a));
	setenv("TZ", "Pacific/Kiritimati", 1);
	tzset();
	ck_assert(date_parse("Thu, 01 Jan 2004 19:48:21 EST", &b));
	ck_assert(a == b);
	ck_assert(date_parse("2004-01-01", &b));
	ck_assert(b == INT64_C(1072915200));
}
END_TEST

/* A 1 MiB field: junk is refused, a date with a long comment is read. */
START_TEST(test_long_inputs)
{
	size_t n = 1 << 20;
	char *s = malloc(n + 1);
	int64_t t;

	ck_assert_ptr_nonnull(s);
	memset(s, '9', n);
	s[n] = '\0';
	ck_assert(!date_parse(s, &t));
	memset(s, ' ', n);
	ck_assert(!date_parse(s, &t));
	memcpy(s, "2004-01-01T00:00:00Z (", 22);
	ck_assert(date_parse(s, &t));
	ck_assert(t == INT64_C(1072915200));
	free(s);
}
END_TEST

static Suite *date_suite(void)
{
	Suite *s = suite_create("date");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_rfc822_family_forms, 0, NROWS(date_rows_rfc822));
	tcase_add_loop_test(tc, test_iso8601_w3cdtf_and_broken_forms, 0, NROWS(date_rows_iso8601));
	tcase_add_loop_test(tc, test_invalid_forms_refused, 0, NROWS(date_rows_invalid));
	tcase_add_test(tc, test_null_input_refused);
	tcase_add_test(tc, test_format_epoch_zero);
	tcase_add_test(tc, test_format_before_epoch);
	tcase_add_test(tc, test_format_year_bounds);
	tcase_add_test(tc, test_format_clamps_outside_years_0000_9999);
	tcase_add_test(tc, test_format_known_instants);
	tcase_add_test(tc, test_format_parse_round_trip);
	tcase_add_test(tc, test_every_day_of_a_gregorian_cycle);
	tcase_add_test(tc, test_result_independent_of_tz);
	tcase_add_test(tc, test_long_inputs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(date_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
