"""A page cache in a module global that is never evicted: one Page per URL."""
import leakrun

_pages = {}


class Page:
    def __init__(self, url):
        self.url = url
        self.html = ("<p>%s</p>" % url).encode() * 8


def get(url):
    page = _pages.get(url)
    if page is None:
        page = _pages[url] = Page(url)
    return page


leakrun.run(lambda i: get("/article/%d" % i))
