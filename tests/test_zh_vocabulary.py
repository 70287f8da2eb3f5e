"""Chinese throughout: every page each demo account can reach, every alert,
and the exports, rendered in zh_CN, show no vocabulary key (``escalated``,
``consumer_association``, ``warning``), no live-event name (``rollup_updated``)
and no English sentence. The board's feed lines are drawn in the browser:
every event has a worded line there (checked against board.js and the
strings it is given)."""

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import openpyxl
import pytest

from console import demo, events, playbooks, vocabulary

from .conftest import copy_database

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost"
# The audit log shows stored values verbatim (status keys included): it is the record, not a label.
# An import template's header and allowed values are the codes the import reads (its sheet of
# allowed values gives each code's Chinese label beside it): a format to fill in, not a text to read.
NOT_CRAWLED = re.compile(r"^/audit|/logout|lang=|/static/|/template\.(csv|xlsx)$")
MAX_PAGES = 60


def _vocabulary_keys():
    keys = set()
    for name in dir(vocabulary):
        table = getattr(vocabulary, name)
        if name.isupper() and isinstance(table, dict):
            keys |= {k for k in table if isinstance(k, str)}
    keys |= set(events.EVENTS) | set(events.QUEUE_EVENTS) | {"info", "warning", "critical", "monitor", "draft", "approved", "issued"}
    for book in playbooks.available().values():
        keys |= {book.id, *book.streams}
    return {k for k in keys if len(k) > 3 or "_" in k}


KEYS = _vocabulary_keys()
KEY_RE = re.compile(r"(?<![A-Za-z0-9_./-])(" + "|".join(sorted(map(re.escape, KEYS), key=len, reverse=True)) + r")(?![A-Za-z0-9_/-])")
# three or more English words in a row: a sentence (or a label) left untranslated
SENTENCE_RE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,'-]+[A-Za-z][a-z]+){2,}")


class _Text(HTMLParser):
    """What a person reads on a page: text and the attributes shown as text,
    outside scripts, styles and elements marked translate="no" (codes to type)."""

    SKIP = {"script", "style", "code"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.parts, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skipping = any(self.stack)
        if not skipping:
            self.parts += [attrs[a] for a in ("placeholder", "aria-label", "title", "alt") if attrs.get(a)]
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append(skipping or tag in self.SKIP or attrs.get("translate") == "no")

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not any(self.stack):
            self.parts.append(data)


def visible_text(html):
    parser = _Text()
    parser.feed(html)
    return "\n".join(p.strip() for p in parser.parts if p.strip())


def problems_in(text):
    return sorted(set(KEY_RE.findall(text))) + sorted(set(SENTENCE_RE.findall(text)))


@pytest.fixture
def demo_app(app, db, demo_file):
    copy_database(demo_file, db)
    return app


def _client(app, username, password):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"  # a Chinese browser
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:300]
    return client


def _links(html, path):
    for href in re.findall(r'href="([^"]+)"', html):
        target = urlparse(urljoin(BASE + path, href.replace("&amp;", "&")))
        if target.netloc == "localhost":
            yield target.path + (f"?{target.query}" if target.query else "")


def _export_text(response):
    kind = response.headers.get("Content-Type", "")
    if "spreadsheetml" in kind:
        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    if "csv" in kind:
        return "\n".join(" ".join(row) for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return None


@pytest.mark.parametrize("username,password", [(u, p) for u, p, *_rest in demo.ACCOUNTS], ids=[a[0] for a in demo.ACCOUNTS])
def test_every_page_and_export_of_the_demo_reads_in_chinese(demo_app, username, password):
    client = _client(demo_app, username, password)
    queue, seen, shapes, found = ["/"], set(), set(), {}
    exports = 0
    while queue and len(shapes) < MAX_PAGES:
        path = queue.pop(0)
        shape = re.sub(r"/\d+", "/N", path.split("?")[0])
        if path in seen or shape in shapes or NOT_CRAWLED.search(path):
            continue
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        if response.status_code != 200:
            continue
        shapes.add(shape)
        kind = response.headers.get("Content-Type", "")
        if "text/html" in kind:
            html = response.data.decode()
            text = visible_text(html)
            queue += [link for link in _links(html, response.request.path) if link not in seen]
        else:
            text = _export_text(response)
            if text is None:
                continue  # a PDF or an attachment: read by its own tests
            exports += 1
        wrong = problems_in(text)
        if wrong:
            found[path] = wrong
    assert len(shapes) >= 5
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
    if username in ("demo-lead", "demo-exec"):
        assert exports >= 1  # the roll-up's CSV and XLSX were read


def test_every_live_event_has_a_worded_feed_line():
    """board.js words each event itself or takes a translated name from
    _board_strings.html; none falls through to the raw event name."""
    script = (ROOT / "console/static/board.js").read_text(encoding="utf-8")
    strings = (ROOT / "templates/_board_strings.html").read_text(encoding="utf-8")
    assert "return event.name;" not in script
    for name in events.EVENTS:
        assert f'case "{name}"' in script or f'"{name}": _(' in strings, name


def test_the_checker_catches_what_it_should():
    assert problems_in("状态 issued") == ["issued"]
    assert problems_in("任务：consumer_association") == ["consumer_association"]
    assert problems_in("rollup_updated") == ["rollup_updated"]
    assert problems_in("省份代码 must be a six-digit code") != []
    assert problems_in("现场 37 人 · 横幅 · GB/T 2260 · 12378 · HB-SJZ-01") == []
    assert visible_text('<p translate="no">name,phone</p><p>姓名</p><script>var a = "new";</script>') == "姓名"
