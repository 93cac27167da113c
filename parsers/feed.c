/* feed.c - small pieces of the feed model shared by the parser modules. */
#include "feed.h"

const char *feed_format_name(enum feed_format f)
{
	switch (f) {
	case FEED_FORMAT_RSS20:
		return "rss20";
	case FEED_FORMAT_RSS10:
		return "rss10";
	case FEED_FORMAT_RSS09X:
		return "rss09x";
	case FEED_FORMAT_ATOM10:
		return "atom10";
	case FEED_FORMAT_ATOM03:
		return "atom03";
	case FEED_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}

void parse_limits_default(struct parse_limits *l)
{
	l->max_depth = 256;
	l->max_field = 1u << 20;
	l->max_items = 10000;
	l->max_categories = 100;
	l->max_enclosures = 32;
	l->amplification_threshold = 1u << 20;
	l->max_amplification = 20.0f;
}
