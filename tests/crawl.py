"""A small same-site crawler for tests: it logs nothing in, it follows what a user could click.

`Crawler(client).run(starts)` requests each start URL, then breadth-first every same-site link it
finds: `href` of any element, the `action` of GET forms (submitted with their current values),
redirects, and URL-looking strings inside JSON. Every body is turned into searchable text by
`searchable()`: HTML and JSON with escapes undone, the XML inside .docx/.xlsx (docProps too)
with and without its tags, .ics with folded lines joined, and the response headers (a file
name can carry a name). A visited set (URLs with their query parameters sorted, the last value of
a repeated parameter kept, as `QueryDict.get` reads it, and empty ones dropped: a filter form
submitted with nothing chosen is the unfiltered page) and a cap bound the walk; the caller
asserts that the cap was not reached.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import io
import json
import os
import re
import time
import zipfile
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urljoin, urlsplit

SITE_HOSTS = {"", "testserver"}
# Never followed: logging out ends the crawl's session; the admin is for admins; static files
# hold no data; the login page only echoes `next`.
SKIP_PREFIXES = ("/logout", "/admin/", "/static/", "/login/", "/media/")

# CRAWL_PROFILE=1: requests and seconds by URL pattern (digits as N, query keys), printed at exit,
# to see where a crawl spends its time.
PROFILE: dict[str, list] | None = (
    defaultdict(lambda: [0, 0.0]) if os.environ.get("CRAWL_PROFILE") else None
)


def _print_profile() -> None:
    if PROFILE:
        rows = sorted(PROFILE.items(), key=lambda kv: -kv[1][1])
        print("\n".join(f"{n:6d} {s:7.1f}s {k}" for k, (n, s) in rows[:40]))


atexit.register(_print_profile)

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Page:
    url: str
    status: int
    text: str  # everything searchable in the response
    content_type: str = ""
    response: object = field(default=None, repr=False)  # until its links are taken
    body: bytes = field(default=b"", repr=False)
    seconds: float = 0.0


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _unescape(text: str) -> str:
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(text)


def searchable(response, body: bytes | None = None) -> str:
    """Every form in which a string could hide in this response, joined."""
    body = _body(response) if body is None else body
    parts = [f"{k}: {v}" for k, v in response.items()]  # headers (Content-Disposition, Location)
    if body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            for name in z.namelist():
                raw = z.read(name)
                if not (name.endswith((".xml", ".rels", ".vml")) or raw[:5] == b"<?xml"):
                    continue  # images and other binaries inside the package
                text = raw.decode("utf-8", "replace")
                parts += [text, _unescape(_TAG.sub("", text))]
    else:
        text = body.decode("utf-8", "replace")
        parts.append(text)
        parts.append(_unescape(text))
        parts.append(_unescape(_TAG.sub("", text)))
        if "\n " in text or "\n\t" in text:  # iCalendar folds long lines
            parts.append(re.sub(r"\r?\n[ \t]", "", text))
        if text[:1] in "{[":
            with contextlib.suppress(ValueError):
                parts.append(json.dumps(json.loads(text), ensure_ascii=False))
    joined = "\n".join(parts)
    return joined + "\n" + unquote(joined)


class _Links(HTMLParser):
    """Links of a page: every href, and each GET form with the values it would submit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, selected, all options
        self._option: str | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "href" in a and tag != "link":
            self.links.append(a["href"])
        if tag == "form":
            method = a.get("method", "get").lower()
            self._form = (a.get("action", ""), []) if method == "get" else None
            if method == "get":
                self.forms.append(self._form)
            return
        if self._form is None:
            return
        fields = self._form[1]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [], [])
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            self._select[2].append(self._option or "")
            if "selected" in a:
                self._select[1].append(self._option or "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = (a["name"], [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._select is not None and self._option is None and self._select[2]:
            # an <option> without a value submits its text
            self._select[2][-1] = self._select[2][-1] or data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, selected, options = self._select
            value = selected[-1] if selected else (options[0] if options else "")
            if self._form is not None:
                self._form[1].append((name, value))
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form[1].append((self._textarea[0], "".join(self._textarea[1])))
            self._textarea = None


def _json_links(value) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _json_links(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_links(item)
    elif isinstance(value, str) and value.startswith("/") and " " not in value and len(value) < 400:
        yield value


def canonical(url: str) -> str | None:
    """The URL as the crawl keys it (None if it leaves the site or is skipped)."""
    parts = urlsplit(url)
    if parts.scheme not in {"", "http", "https"} or parts.netloc not in SITE_HOSTS:
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES):
        return None
    last: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        last.pop(key, None)
        if value:  # a filter left empty is the filter not given
            last[key] = value
    query = urlencode(sorted(last.items()))
    return f"{path}?{query}" if query else path


@dataclass
class Crawler:
    """Breadth-first over a site as the client's user; `headers` go with every request."""

    client: object
    headers: dict = field(default_factory=dict)
    cap: int = 3000
    keep: Callable[[str], bool] = lambda url: True  # a further filter (e.g. a calendar window)
    more: Callable[[Page], list[str]] = lambda page: []  # links only the caller knows (API cursors)
    follow: Callable[[Page], bool] = lambda page: True  # False: the page is read, its links not
    visited: set[str] = field(default_factory=set)
    pages: list[Page] = field(default_factory=list)
    errors: list[tuple[str, int]] = field(default_factory=list)  # 5xx
    requests: int = 0
    hit_cap: bool = False
    skipped: set[str] = field(default_factory=set)  # refused by `keep`

    def get(self, url: str) -> Page:
        self.requests += 1
        started = time.perf_counter()
        response = self.client.get(url, **self.headers)
        page = self._page(url, response)
        page.seconds = time.perf_counter() - started
        if PROFILE is not None:
            pattern = re.sub(r"\d+", "N", url.split("?", 1)[0])
            pattern += "?" + ",".join(sorted(parse_qs(urlsplit(url).query)))
            PROFILE[pattern][0] += 1
            PROFILE[pattern][1] += page.seconds
        return page

    def post(self, url: str, data: dict | str, content_type: str | None = None) -> Page:
        self.requests += 1
        if content_type:
            response = self.client.post(url, data, content_type=content_type, **self.headers)
        else:
            response = self.client.post(url, data, **self.headers)
        return self._page(url, response)

    def _page(self, url: str, response) -> Page:
        body = _body(response)
        page = Page(
            url,
            response.status_code,
            searchable(response, body),
            response.get("Content-Type", ""),
            response,
            body,
        )
        if response.status_code >= 500:
            self.errors.append((url, response.status_code))
        self.pages.append(page)
        return page

    def links(self, page: Page) -> list[str]:
        response = page.response
        found: list[str] = []
        if 300 <= response.status_code < 400 and response.get("Location"):
            found.append(response["Location"])
        kind = response.get("Content-Type", "")
        if "html" in kind:
            parser = _Links()
            parser.feed(page.body.decode("utf-8", "replace"))
            found += parser.links
            for action, fields in parser.forms:
                target = urljoin(page.url, action or page.url)
                base = target.split("?", 1)[0]
                found.append(f"{base}?{urlencode(fields)}" if fields else base)
        elif "json" in kind:
            with contextlib.suppress(ValueError):
                found += list(_json_links(json.loads(page.body)))
        found += self.more(page)
        return [
            urljoin(page.url, link.split("#", 1)[0])
            for link in found
            if link and not link.startswith("#")
        ]

    def run(self, starts: Iterable[str]) -> list[Page]:
        queue: deque[str] = deque()

        def push(url: str) -> None:
            key = canonical(url)
            if key is None or key in self.visited:
                return
            if not self.keep(key):
                self.skipped.add(key)
                return
            self.visited.add(key)
            queue.append(key)

        for url in starts:
            push(url)
        while queue:
            if self.requests >= self.cap:
                self.hit_cap = True
                break
            page = self.get(queue.popleft())
            for link in self.links(page) if self.follow(page) else []:
                push(link)
            page.response, page.body = None, b""  # let the body go; the text is kept
        return self.pages
