"""The PDF engine: the embedded CJK font and the builder that turns sections, tables and signatures into a PDF (reportlab)."""

import io
import os
import threading
from dataclasses import dataclass, field
from typing import Optional
from xml.sax.saxutils import escape

from ..clock import from_iso, to_iso

# --- the font ----------------------------------------------------------------------------------

# WenQuanYi Micro Hei: a free (Apache 2.0 / GPLv3 with font exception) CJK
# sans-serif that Debian packages as fonts-wqy-microhei. The PDFs embed a
# subset of it, so the reader needs no Chinese font of their own.
FONT_PACKAGE = "fonts-wqy-microhei"
FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian, Ubuntu: fonts-wqy-microhei
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",  # Fedora: wqy-microhei-fonts
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",  # Arch: wqy-microhei
    "/usr/local/share/fonts/wqy-microhei.ttc",
)
FONT_NAME = "WenQuanYiMicroHei"

_font_lock = threading.Lock()
_font_ready = False
# reportlab's TTFont keeps per-document subsetting state and its documentation
# asks not to share one between documents being built at the same time: the
# web server's threads take turns.
_build_lock = threading.Lock()


def font_path():
    """The first CJK font file found, or RuntimeError naming the package to install."""
    for path in FONT_PATHS:
        if os.path.exists(path):
            return path
    raise RuntimeError(
        f"No Chinese font for the PDF documents: install the Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}); looked in {', '.join(FONT_PATHS)}."
    )


def _register_font():
    global _font_ready
    if _font_ready:
        return
    with _font_lock:
        if _font_ready:
            return
        from reportlab.lib import textsplit
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from reportlab.platypus import paragraph

        pdfmetrics.registerFont(TTFont(FONT_NAME, font_path(), subfontIndex=0))
        # reportlab's CJK wrapping keeps 、。） off the start of a line but not
        # the other full-width marks Chinese text ends clauses with.
        for module in (textsplit, paragraph):
            module.ALL_CANNOT_START += "".join(c for c in "，；：！？》」』”’％" if c not in module.ALL_CANNOT_START)
        # The font has no bold or italic face: <b> and <i> fall back to the regular one.
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(FONT_NAME, bold, italic, FONT_NAME)
        _font_ready = True


# --- the PDF builder ---------------------------------------------------------------------------


@dataclass
class Table:
    """A table block for ``render_pdf``: a header row (or None), rows, and optional
    column widths as fractions of the text width; ``numeric`` columns are
    right-aligned; ``total`` shades the last row."""

    header: Optional[list]
    rows: list
    widths: Optional[list] = None
    numeric: tuple = ()
    total: bool = False
    empty: str = "（无）"


@dataclass
class Signature:
    """Right-aligned lines closing a document: the unit, and the date if any."""

    lines: list


class PageBreak:
    """A block for ``render_pdf``: what follows starts on a new page."""


@dataclass
class Section:
    heading: Optional[str]
    blocks: list = field(default_factory=list)


def _styles():
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    base = dict(fontName=FONT_NAME, wordWrap="CJK", textColor=colors.black)
    return {
        "title": ParagraphStyle("title", fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=10, **base),
        "subtitle": ParagraphStyle("subtitle", fontSize=10.5, leading=15, alignment=TA_CENTER, spaceAfter=8, **base),
        "heading": ParagraphStyle("heading", fontSize=13, leading=19, spaceBefore=10, spaceAfter=4, keepWithNext=1, **base),
        "lead_in": ParagraphStyle("lead_in", fontSize=10.5, leading=17, spaceAfter=2, keepWithNext=1, **base),
        "signature": ParagraphStyle("signature", fontSize=10.5, leading=17, alignment=2, **base),
        "body": ParagraphStyle("body", fontSize=10.5, leading=17, spaceAfter=4, **base),
        "cell": ParagraphStyle("cell", fontSize=9, leading=12.5, **base),
        "cell_right": ParagraphStyle("cell_right", fontSize=9, leading=12.5, alignment=2, **base),
        "cell_head": ParagraphStyle("cell_head", fontSize=9, leading=12.5, **base),
    }


def _text(value):
    """Escaped paragraph markup for a plain value; line breaks kept."""
    return escape("" if value is None else str(value)).replace("\n", "<br/>")


def _table_flowable(block, styles, width):
    from reportlab.lib import colors
    from reportlab.platypus import KeepTogether, Paragraph, TableStyle
    from reportlab.platypus import Table as RLTable

    if not block.rows:
        return Paragraph(_text(block.empty), styles["body"])
    columns = len(block.header) if block.header else max(len(r) for r in block.rows)
    fractions = block.widths or [1 / columns] * columns
    widths = [width * f for f in fractions]

    def cell(value, index, head=False):
        style = styles["cell_head"] if head else styles["cell_right"] if index in block.numeric else styles["cell"]
        return Paragraph(_text(value), style)

    data = []
    if block.header:
        data.append([cell(v, i, head=True) for i, v in enumerate(block.header)])
    data += [[cell(v, i) for i, v in enumerate(row)] for row in block.rows]
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#808080")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if block.header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")))
    if block.total:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")))
    table = RLTable(data, colWidths=widths, repeatRows=1 if block.header else 0, style=TableStyle(commands), hAlign="LEFT")
    # a short table is not split over two pages
    return KeepTogether([table]) if len(data) <= 12 else table


def render_pdf(title, sections, subtitle=None, now=None, author="", footer=True):
    """An A4 PDF: a centred title, then each section's heading and blocks.

    ``sections`` is a list of ``Section`` (or ``(heading, blocks)`` pairs);
    a block is a string (a paragraph; newlines kept), a ``Table`` or a
    ``Signature``. The CJK
    font is embedded (subset) and Chinese wraps anywhere. With ``now`` the
    PDF's creation date is that moment; the output is otherwise invariant, so
    the same input gives the same bytes. ``footer`` puts the title and page
    number at the foot of each page.
    """
    _register_font()
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        creator="crisis console",
        producer="crisis console (reportlab)",
        lang="zh-CN",
        invariant=True,
    )
    story = [Paragraph(_text(title), styles["title"])]
    if subtitle:
        story.append(Paragraph(_text(subtitle), styles["subtitle"]))
    for section in sections:
        heading, blocks = (section.heading, section.blocks) if isinstance(section, Section) else section
        if heading:
            story.append(Paragraph(_text(heading), styles["heading"]))
        for index, block in enumerate(blocks):
            if isinstance(block, Table):
                story.append(_table_flowable(block, styles, doc.width))
                story.append(Spacer(1, 4))
            elif isinstance(block, PageBreak):
                from reportlab.platypus import PageBreak as NewPage

                story.append(NewPage())
            elif isinstance(block, Signature):
                story.append(Spacer(1, 18))
                story += [Paragraph(_text(line), styles["signature"]) for line in block.lines]
            else:
                # a paragraph that introduces a table stays with it
                follows_table = index + 1 < len(blocks) and isinstance(blocks[index + 1], Table)
                story.append(Paragraph(_text(block), styles["lead_in" if follows_table else "body"]))
    stamp = None
    if now is not None:
        utc = from_iso(to_iso(now))
        stamp = "D:%s+00'00'" % utc.strftime("%Y%m%d%H%M%S")

    drill = _drill()
    if drill:
        title = f"【演练】{title}"
        story[0] = Paragraph(_text(title), styles["title"])

    def decorate(canvas, document):
        if stamp:
            canvas.setDateFormatter(lambda *_parts: stamp)
        if drill:  # a drill console's documents: marked on every page (console/drills.py)
            canvas.saveState()
            canvas.setFont(FONT_NAME, 14)
            canvas.setFillColorRGB(0.72, 0.11, 0.11)
            canvas.drawCentredString(A4[0] / 2, A4[1] - 10 * mm, "演练文件 DRILL · 非真实事件")
            canvas.restoreState()
        if footer:
            canvas.saveState()
            canvas.setFont(FONT_NAME, 8)
            canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{title}　第 {document.page} 页")
            canvas.restoreState()

    with _build_lock:
        doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _drill():
    """Whether this process is a drill console (DRILL on): its documents are marked."""
    from flask import current_app, has_app_context

    return bool(has_app_context() and current_app.config.get("DRILL"))
