#!/usr/bin/env python3
"""gen_feed.py - deterministic generator of large realistic feeds for bench/.

usage: gen_feed.py rss|atom SIZE_MB OUT
       gen_feed.py many COUNT ITEMS OUTDIR   (COUNT RSS feeds of ITEMS items:
                                              OUTDIR/feed-0000.xml ...)

Items carry 1-8 KB HTML bodies with non-ASCII text, categories and
enclosures, like a news site's full-text feed.  The same arguments always
give the same bytes (fixed seed), so runs on different days compare.
"""
import random
import sys

WORDS = ("harbour ferry council storm tide quay market lighthouse gull net "
         "winter timetable crossing vessel pilot shift hospital weather path "
         "résumé café naïve façade Zürich Kraków São Paulo Ελλάδα Москва 東京 "
         "coöperate jalapeño smörgåsbord").split()
PUNCT = ["—", "–", "“", "”", "‘", "’", "…", ",", ".", ";"]
CATS = ["News", "Weather", "Transport", "Culture", "History", "Sport",
        "Politics", "Science", "Économie", "Umwelt"]


def sentence(r):
    n = r.randint(6, 18)
    w = [r.choice(WORDS) for _ in range(n)]
    w[0] = w[0].capitalize()
    s = " ".join(w)
    if r.random() < 0.4:
        s = "“" + s + "”"
    return s + r.choice(PUNCT[-3:]) + " "


def body(r):
    target = r.randint(1024, 8192)
    out = []
    size = 0
    while size < target:
        p = "<p>" + "".join(sentence(r) for _ in range(r.randint(2, 6)))
        if r.random() < 0.3:
            p += '<a href="https://example.org/%d">more — here</a>' % r.randint(1, 10**6)
        p += "</p>\n"
        out.append(p)
        size += len(p.encode())
    return "".join(out)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rss_item(r, i):
    cats = "".join("<category>%s</category>" % c for c in r.sample(CATS, r.randint(1, 4)))
    enc = ""
    if r.random() < 0.5:
        enc = '<enclosure url="https://cdn.example.org/a/%d.mp3" length="%d" type="audio/mpeg"/>' % (i, r.randint(10**5, 10**8))
    when = 1700000000 - i * 977
    import time
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    b = body(r)
    return ("<item><title>%s</title><link>https://news.example.org/%d</link>"
            "<guid isPermaLink=\"false\">item-%d</guid><pubDate>%s</pubDate>"
            "<dc:creator>Reporter %d</dc:creator>%s"
            "<description>%s</description>"
            "<content:encoded><![CDATA[%s]]></content:encoded>%s</item>\n") % (
        esc(sentence(r).strip()), i, i, date, i % 37, cats,
        esc(sentence(r)), b, enc)


def atom_entry(r, i):
    cats = "".join('<category term="%s"/>' % c for c in r.sample(CATS, r.randint(1, 4)))
    enc = ""
    if r.random() < 0.5:
        enc = '<link rel="enclosure" href="https://cdn.example.org/a/%d.mp3" length="%d" type="audio/mpeg"/>' % (i, r.randint(10**5, 10**8))
    import time
    when = 1700000000 - i * 977
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
    return ("<entry><title>%s</title><link href=\"https://news.example.org/%d\"/>"
            "<id>tag:news.example.org,2023:%d</id><published>%s</published><updated>%s</updated>"
            "<author><name>Reporter %d</name></author>%s%s"
            "<summary>%s</summary><content type=\"html\">%s</content></entry>\n") % (
        esc(sentence(r).strip()), i, i, date, date, i % 37, cats, enc,
        esc(sentence(r)), esc(body(r)))


def many(count, items, outdir):
    import os
    os.makedirs(outdir, exist_ok=True)
    for n in range(count):
        r = random.Random(n)
        path = os.path.join(outdir, "feed-%04d.xml" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
                    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                    'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
                    '<title>Bench feed %d</title><link>https://news%d.example.org/</link>'
                    '<description>generated</description>\n' % (n, n))
            for i in range(items):
                f.write(rss_item(r, n * 100000 + i))
            f.write("</channel></rss>\n")


def main():
    if sys.argv[1] == "many":
        many(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return
    kind, mb, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    r = random.Random(20261128)
    limit = int(mb * 1024 * 1024)
    with open(out, "w", encoding="utf-8") as f:
        if kind == "rss":
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
                    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                    'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
                    '<title>Bench News</title><link>https://news.example.org/</link>'
                    '<description>generated</description>\n')
            end = "</channel></rss>\n"
            make = rss_item
        else:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                    '<title>Bench News</title><id>tag:news.example.org,2023:feed</id>'
                    '<updated>2023-11-14T22:13:20Z</updated>'
                    '<link href="https://news.example.org/"/>\n')
            end = "</feed>\n"
            make = atom_entry
        size = 0
        i = 0
        while size < limit:
            s = make(r, i)
            f.write(s)
            size += len(s.encode())
            i += 1
        f.write(end)


if __name__ == "__main__":
    main()
