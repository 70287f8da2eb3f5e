"""Documents for outside parties, built from the live data, never typed by hand.

- ``regulator_report``: the written emergency report to the regulator, with
  every item the reporting rules ask for (shared DOMAIN.md, "Emergency and
  mass-incident reporting to the regulator");
- ``consumer_association_packet``: a ZIP for the consumer association (消协):
  ``packet.pdf`` (case summary, product facts, handling plan, timeline,
  contacts) and ``counts.csv`` (aggregates only);
- ``media_statement``: the holding statement, from the incident's latest agreed
  line approved by legal (统一口径), and nothing else;
- ``incident_review``: the post-incident review.

Each is a pure function of the database, the incident, ``now`` and the
settings (and the names the caller signs with): the same data gives the same
bytes. None carries a complainant's name, phone or ID number: complainants
appear only as counts and sums.

The documents are in Chinese because the regulator, the consumer association
and the press read Chinese; their labels are data for outside parties, so they
are Chinese literals here and do not go through the interface's translation
catalogue.

What was issued is kept as issued: ``store_issued`` writes the bytes once,
read-only, named by their SHA-256, and records them in ``issued_document``
(which the database refuses to change or delete); ``read_issued`` checks the
file still has that hash before handing it out.
"""

import hashlib
import io
import json
import os
import statistics
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from . import catalogue, disclosure, figures, masking, money, regions, spreadsheets, vocabulary
from .clock import from_iso, to_iso
from .db import write
from .errors import ConsoleError, Invalid, NotFound
from .incidents import get_incident
from .status import FUNNEL
from .updates import latest_by_branch

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


# --- words and formats -------------------------------------------------------------------------

# The documents' formal wording: console/vocabulary.py's FORMAL_* label sets (and PARTIES),
# in Chinese whatever the reader's language (_zh below); the names are the call sites'.
SEVERITY_ZH = vocabulary.FORMAL_SEVERITIES
INCIDENT_STATUS_ZH = vocabulary.FORMAL_INCIDENT_STATUSES
COMPLAINANT_STATUS_ZH = vocabulary.FORMAL_COMPLAINANT_STATUSES
MOOD_ZH = vocabulary.FORMAL_MOODS
ROLE_ZH = vocabulary.FORMAL_ROLES
PARTY_ZH = vocabulary.PARTIES
DOCUMENT_KIND_ZH = vocabulary.FORMAL_DOCUMENT_KINDS
INCIDENT_FIELD_ZH = {
    "title": "事件名称",
    "cause": "起因",
    "product": "涉及产品",
    "severity": "严重程度",
    "status": "状态",
    "playbook": "应急预案",
    "mass_incident_at": "群体性事件认定时间",
}
NO_GROUP = "未分组"
NO_BRANCH = "（未指明网点）"
NONE = "暂无"


def zh_label(mapping, value):
    return vocabulary.zh(mapping, value)


def _tz(settings):
    return ZoneInfo(settings.get("TIMEZONE") or "Asia/Shanghai")


def when_local(value, settings):
    """A stored (UTC) time or a datetime, as local Chinese date and time."""
    moment = from_iso(value) if isinstance(value, str) else value
    if moment is None:
        return ""
    local = moment.astimezone(_tz(settings))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _duration(seconds):
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{round(seconds / 60)} 分钟"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} 小时"
    return f"{seconds / 86400:.1f} 天"


def _required(**values):
    missing = [name for name, value in values.items() if not (value or "").strip()]
    if missing:
        raise Invalid(
            f"The document needs {', '.join(missing)} (文件须写明：{', '.join(missing)}).",
            details=[{"field": name, "message": "is required"} for name in missing],
        )


def _figure(key):
    """A headline figure's Chinese name (console/figures.py)."""
    return figures.FIGURES[key].zh_label


def _definitions(keys):
    """The closing note saying what each figure in the document counts (console/figures.py)."""
    return Section("附：指标说明", [Table(["指标", "含义"], [list(pair) for pair in figures.zh_definitions(keys)], widths=[0.24, 0.76])])


REVIEW_FIGURES = ("complainants", "settled_to_date")


def organisation_name(settings):
    return settings.get("ORGANISATION_NAME") or "（报送单位）"


# --- facts read from the database --------------------------------------------------------------


def _status_order(status):
    return (FUNNEL.index(status), status) if status in FUNNEL else (len(FUNNEL), status)


class Facts:
    """The aggregates every document draws on; complainants only as counts and sums."""

    def __init__(self, db, incident_id, floor=0):
        self.floor = floor  # MIN_CELL_PEOPLE for a suppressed rendering, 0 for the copy issued
        self.incident = catalogue.named(db, get_incident(db, incident_id))  # cause and product as people read them
        self.provinces = regions.province_names(db, "zh_CN")
        self.groups = {
            r["id"]: dict(r) for r in db.query("SELECT id, name, handling_line FROM complainant_group WHERE incident_id = ? ORDER BY id", [incident_id])
        }
        self.matrix = [
            dict(r)
            for r in db.query(
                "SELECT group_id, province_code, status, count(*) AS count, sum(principal_fen) AS principal_fen, "
                "sum(interest_claimed_fen) AS interest_fen, sum(expenses_claimed_fen) AS expenses_fen "
                "FROM complainant WHERE incident_id = ? GROUP BY group_id, province_code, status",
                [incident_id],
            )
        ]
        self.branches = [
            dict(r)
            for r in db.query(
                "SELECT complainant.branch_code, branch.name AS branch_name, complainant.province_code, count(*) AS count "
                "FROM complainant LEFT JOIN branch ON branch.code = complainant.branch_code "
                "WHERE complainant.incident_id = ? GROUP BY complainant.province_code, complainant.branch_code "
                "ORDER BY complainant.province_code, complainant.branch_code IS NULL, complainant.branch_code",
                [incident_id],
            )
        ]
        self.first_received, self.last_received = db.execute(
            "SELECT min(received_at), max(received_at) FROM complainant WHERE incident_id = ?", [incident_id]
        ).fetchone()

    def group_name(self, group_id):
        return self.groups[group_id]["name"] if group_id in self.groups else NO_GROUP

    def province_name(self, code):
        return self.provinces.get(code, code)

    def totals(self):
        return self._sum(self.matrix)

    @staticmethod
    def _sum(rows):
        return {
            "count": sum(r["count"] for r in rows),
            "principal_fen": sum(r["principal_fen"] or 0 for r in rows),
            "interest_fen": sum(r["interest_fen"] or 0 for r in rows),
            "expenses_fen": sum(r["expenses_fen"] or 0 for r in rows),
        }

    def by(self, key):
        """Sums by 'group_id', 'province_code' or 'status', in a stable order."""
        keys = {r[key] for r in self.matrix}
        if key == "group_id":
            ordered = sorted(keys, key=lambda g: (g is None, g or 0))
        elif key == "status":
            ordered = sorted(keys, key=_status_order)
        else:
            ordered = sorted(keys, key=lambda k: k or "")
        return [(k, self._sum([r for r in self.matrix if r[key] == k])) for k in ordered]

    def label(self, key, value):
        if key == "group_id":
            return self.group_name(value)
        if key == "province_code":
            return self.province_name(value)
        return zh_label(COMPLAINANT_STATUS_ZH, value)

    def province_list(self):
        return "、".join(self.province_name(k) for k, _sums in self.by("province_code")) or NONE


_MONEY_HEADER = ["人数", "本金（元）", "主张利息（元）", "主张费用（元）", "合计（元）"]


def _money_table(facts, key, first_column):
    """People and amounts by ``key``, with a total row. In a suppressed
    rendering (facts.floor > 0) a row of fewer people shows its count and "—"
    (and so do the rows hidden with it: console.disclosure), with a note."""
    by = facts.by(key)
    hidden = disclosure.suppressed_rows([sums["count"] for _value, sums in by], facts.floor)
    rows = [[facts.label(key, value), *_money_cells(sums, index in hidden)] for index, (value, sums) in enumerate(by)]
    total = facts.totals()
    total_hidden = disclosure.small(total["count"], facts.floor)
    rows.append(["合计", *_money_cells(total, total_hidden)])
    table = Table([first_column, *_MONEY_HEADER], rows, widths=[0.24, 0.1, 0.17, 0.16, 0.15, 0.18], numeric=(1, 2, 3, 4, 5), total=True)
    if hidden or total_hidden:
        return [table, disclosure.NOTE_ZH.format(n=facts.floor)]
    return [table]


def _money_cells(sums, hidden=False):
    if hidden:
        return [str(sums["count"]), *[disclosure.DASH] * 4]
    whole = sums["principal_fen"] + sums["interest_fen"] + sums["expenses_fen"]
    return [str(sums["count"]), *(money.format(fen or 0, plain=True) for fen in (sums["principal_fen"], sums["interest_fen"], sums["expenses_fen"], whole))]


def _amount(facts, sums, key):
    """One total amount in running text: "—" when its people are too few for this rendering."""
    return disclosure.DASH if disclosure.small(sums["count"], facts.floor) else money.format(sums[key] or 0, plain=True)


def cell_floor(settings, suppressed):
    return disclosure.min_people(settings) if suppressed else 0


def incident_tasks(db, incident_id):
    return [
        dict(r)
        for r in db.query(
            "SELECT id, stream, title, owner_role, due_at, status, completed_at, referral_party FROM task "
            "WHERE incident_id = ? ORDER BY CASE status WHEN 'done' THEN completed_at ELSE due_at END, id",
            [incident_id],
        )
    ]


def _audit_rows(db, incident_id):
    return [
        dict(r)
        for r in db.query(
            "SELECT id, at, username, action, before, after FROM audit_log WHERE table_name = 'incident' AND row_id = ? ORDER BY at, id",
            [incident_id],
        )
    ]


def _loads(text):
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def _incident_timeline(db, incident, settings, full):
    """(time, what) for the incident's own history, oldest first.

    ``full`` adds edits, who acted, and why the crowd rule fired (the review);
    without it only registration, status changes and the mass-incident
    finding (the consumer association's packet).
    """
    events = []
    seen_create = seen_mass = seen_active = False
    for row in _audit_rows(db, incident["id"]):
        before, after = _loads(row["before"]), _loads(row["after"])
        who = f"（{row['username']}）" if full and row["username"] else ""
        if row["action"] == "create":
            seen_create = True
            seen_active = seen_active or after.get("status") == "active"
            events.append((row["at"], f"事件登记，状态：{zh_label(INCIDENT_STATUS_ZH, after.get('status'))}{who}"))
        elif row["action"] == "status":
            seen_active = seen_active or after.get("status") == "active"
            reason = f"；原因：{after['reason']}" if after.get("reason") else ""
            events.append(
                (
                    row["at"],
                    f"状态由“{zh_label(INCIDENT_STATUS_ZH, before.get('status'))}”变为“{zh_label(INCIDENT_STATUS_ZH, after.get('status'))}”{reason}{who}",
                )
            )
        elif row["action"] == "mass_incident":
            seen_mass = True
            reasons = after.get("reasons") or []
            detail = f"；依据：{'；'.join(reasons)}" if full and reasons else ""
            events.append((row["at"], f"认定为群体性事件{detail}"))
        elif full:
            fields = "、".join(INCIDENT_FIELD_ZH.get(k, k) for k in after if k != "updated_at")
            verb = "修改事件信息" if row["action"] == "update" else row["action"]
            events.append((row["at"], f"{verb}{('：' + fields) if fields else ''}{who}"))
    if not seen_create:
        events.append((incident["opened_at"], "事件登记"))
    if incident.get("activated_at") and not seen_active:
        events.append((incident["activated_at"], "启动应急处置"))
    if incident.get("mass_incident_at") and not seen_mass:
        events.append((incident["mass_incident_at"], "认定为群体性事件"))
    return events


def _timeline_table(events, settings):
    ordered = sorted(events, key=lambda e: from_iso(e[0]))
    return Table(["时间", "事项"], [[when_local(at, settings), what] for at, what in ordered], widths=[0.24, 0.76])


# --- 1. the regulator's report -----------------------------------------------------------------


def regulator_report(db, incident_id, now, settings, signing_officer, contact_person, contact_phone, suppressed=False):
    """The written report to the regulator (PDF), with every item the reporting
    rules ask for: what happened, where and when; nature and level; people and
    amounts by group, region and status; the stability situation and trend;
    measures taken and planned; help needed; reporting unit, signing officer,
    contact person and phone."""
    _required(signing_officer=signing_officer, contact_person=contact_person, contact_phone=contact_phone)
    facts = Facts(db, incident_id, cell_floor(settings, suppressed))
    incident = facts.incident
    organisation = organisation_name(settings)
    earlier = db.execute(
        "SELECT count(*) FROM issued_document WHERE incident_id = ? AND kind = 'regulator_report' AND issued_at <= ?",
        [incident_id, to_iso(now)],
    ).fetchone()[0]
    if incident["status"] == "closed":
        kind = f"终报（第 {earlier + 1} 报）"
    elif earlier:
        kind = f"续报（第 {earlier + 1} 报）"
    else:
        kind = "首报"
    totals = facts.totals()

    header = Section(
        None,
        [
            Table(
                None,
                [
                    ["报送单位", organisation, "报告类型", kind],
                    ["签发人", signing_officer, "报送时间", when_local(now, settings)],
                    ["联系人", contact_person, "联系电话", contact_phone],
                ],
                widths=[0.14, 0.36, 0.14, 0.36],
            )
        ],
    )

    where = Table(
        ["省份", "网点", "涉及人数"],
        [[facts.province_name(b["province_code"]), b["branch_name"] or b["branch_code"] or NO_BRANCH, str(b["count"])] for b in facts.branches],
        widths=[0.25, 0.55, 0.2],
        numeric=(2,),
    )
    happened = Section(
        "一、事件基本情况",
        [
            f"事件名称：{incident['title']}",
            f"事件起因：{incident['cause']}",
            f"涉及产品：{incident['product']}",
            f"事件开始时间：{when_local(incident['opened_at'], settings)}（立案登记）"
            + (f"；最早一笔投诉受理于 {when_local(facts.first_received, settings)}" if facts.first_received else ""),
            f"涉及地区：{facts.province_list()}（各网点分布见下表）",
            where,
            f"当前处置状态：{zh_label(INCIDENT_STATUS_ZH, incident['status'])}"
            + (f"（{when_local(incident['activated_at'], settings)}启动应急处置）" if incident.get("activated_at") else ""),
        ],
    )

    peak = figures.peak_on_site(db, incident_id)
    major_at = settings.get("MAJOR_COMPLAINANTS_IN_PERSON", 20)
    mass = incident.get("mass_incident_at")
    nature = Section(
        "二、事件性质和级别",
        [
            f"事件性质：群体性投诉（同一原因引发的多名客户投诉），共涉及客户 {totals['count']} 人。",
            f"严重程度：{zh_label(SEVERITY_ZH, incident['severity'])}",
            f"是否已构成群体性事件：{'是，' + when_local(mass, settings) + '认定' if mass else '否'}",
            f"是否构成重大消费投诉（{major_at} 人以上共同到场）：{'是' if peak >= major_at else '否'}（各网点报告的{_figure('peak_on_site')}：{peak} 人）",
        ],
    )

    amounts = Section(
        "三、涉及人数和金额",
        [
            f"共涉及客户 {totals['count']} 人，涉及本金 {_amount(facts, totals, 'principal_fen')} 元，"
            f"主张利息 {_amount(facts, totals, 'interest_fen')} 元，主张费用 {_amount(facts, totals, 'expenses_fen')} 元。",
            "（一）按客户分组",
            *_money_table(facts, "group_id", "客户分组"),
            "（二）按地区",
            *_money_table(facts, "province_code", "省份"),
            "（三）按处理状态",
            *_money_table(facts, "status", "处理状态"),
            f"和解情况：{_figure('settled_now')} {figures.settled_now(db, incident_id)} 人，"
            f"{_figure('settled_to_date')} {figures.settled_to_date(db, incident_id)} 人（两者的区别见文末指标说明）。",
        ],
    )

    latest = sorted(latest_by_branch(db, incident_id), key=lambda u: (u["province_code"], u["branch_code"]))
    yes = lambda flag: "有" if flag else "无"  # noqa: E731
    site = Table(
        ["网点", "报告时间", "现场人数", "情绪", "横幅", "警方到场", "媒体到场", "网点停业或被堵"],
        [
            [
                f"{u['branch_name']}（{facts.province_name(u['province_code'])}）",
                when_local(u["posted_at"], settings),
                str(u["people_on_site"]),
                zh_label(MOOD_ZH, u["mood"]),
                yes(u["banners"]),
                yes(u["police_present"]),
                yes(u["media_present"]),
                (f"是，自 {when_local(u['closed_since'], settings)}" if u["closed_since"] else "是") if u["outlet_closed"] else "否",
            ]
            for u in latest
        ],
        widths=[0.22, 0.17, 0.1, 0.08, 0.07, 0.1, 0.1, 0.16],
        numeric=(2,),
        empty="各网点尚未报送现场情况。",
    )
    day = timedelta(hours=24)
    last_24 = figures.received_last_24h(db, incident_id, now)
    previous_24 = figures.received_between(db, incident_id, now - 2 * day, now - day)
    trend = "上升" if last_24 > previous_24 else "下降" if last_24 < previous_24 else "持平"
    media_24 = db.execute(
        "SELECT sum(kind = 'inquiry'), sum(kind = 'coverage') FROM media_item WHERE incident_id = ? AND at >= ? AND at < ?",
        [incident_id, to_iso(now - day), to_iso(now)],
    ).fetchone()
    stability = Section(
        "四、维稳情况及发展趋势",
        [
            f"各网点最新报告：现场共 {figures.people_on_site(latest)} 人。",
            site,
            f"新增投诉：近 24 小时新增 {last_24} 人，此前 24 小时新增 {previous_24} 人，趋势{trend}。",
            _forecast_sentence(db, incident_id, now),
            f"舆情：近 24 小时媒体问询 {media_24[0] or 0} 次，相关报道 {media_24[1] or 0} 篇。",
        ],
    )

    tasks = incident_tasks(db, incident_id)
    done = [t for t in tasks if t["status"] == "done"]
    planned = [t for t in tasks if t["status"] != "done"]
    branch_actions = [
        f"{u['branch_name']}：{masking.mask_free_text(u['actions_taken']) if suppressed else u['actions_taken']}"
        for u in latest
        if (u["actions_taken"] or "").strip()
    ]
    measures = Section(
        "五、已采取的措施",
        [
            Table(
                ["完成时间", "措施", "负责方"],
                [[when_local(t["completed_at"], settings), t["title"], zh_label(ROLE_ZH, t["owner_role"])] for t in done],
                widths=[0.24, 0.56, 0.2],
                empty="暂无已完成的措施。",
            ),
            *(["各网点现场处置：", *branch_actions] if branch_actions else []),
        ],
    )
    next_steps = Section(
        "六、下一步工作安排",
        [
            Table(
                ["完成时限", "措施", "负责方"],
                [
                    [when_local(t["due_at"], settings) + ("（已逾期）" if from_iso(t["due_at"]) < now else ""), t["title"], zh_label(ROLE_ZH, t["owner_role"])]
                    for t in sorted(planned, key=lambda t: (t["due_at"], t["id"]))
                ],
                widths=[0.3, 0.5, 0.2],
                empty="暂无待办措施。",
            ),
        ],
    )
    needs = [f"{u['branch_name']}：{masking.mask_free_text(u['needs']) if suppressed else u['needs']}" for u in latest if (u["needs"] or "").strip()]
    help_needed = Section("七、需要协调解决的事项", needs or [NONE])
    sign_off = Section(
        "八、报送信息",
        [
            Table(
                None,
                [
                    ["报送单位", organisation],
                    ["签发人", signing_officer],
                    ["联系人", contact_person],
                    ["联系电话", contact_phone],
                    ["报送时间", when_local(now, settings)],
                ],
                widths=[0.2, 0.8],
            ),
        ],
    )
    return render_pdf(
        f"关于{incident['title']}的报告",
        [header, happened, nature, amounts, stability, measures, next_steps, help_needed, sign_off, _definitions(figures.REGULATOR_REPORT)],
        now=now,
        author=organisation,
    )


def _forecast_sentence(db, incident_id, now):
    """The trend ahead for the regulator: the early-warning forecast (console/forecast.py)."""
    from .forecast import incident_forecast

    horizons = {h["hours"]: h for h in incident_forecast(db, incident_id, now)["horizons"]}
    parts = [
        f"{label}新增约 {horizons[hours]['expected']} 人（80% 区间 {horizons[hours]['low']}–{horizons[hours]['high']} 人）"
        for hours, label in ((24, "未来 24 小时"), (72, "未来 72 小时"), (168, "未来 7 天"))
        if hours in horizons
    ]
    return "趋势预测：" + "，".join(parts) + "（按投诉到达时间拟合指数平滑模型预测）。"


# --- 2. the consumer association's packet ------------------------------------------------------

COUNTS_CSV_HEADER = ["客户分组", "省份", "处理状态", "人数", "本金（元）"]


def counts_csv(db, incident_id, floor=0):
    """Complainants by group x province x status with the principal: aggregates
    only, UTF-8 with a byte-order mark so Excel reads the Chinese. With a
    ``floor`` (a suppressed rendering) a row of fewer people has no principal."""
    facts = Facts(db, incident_id, floor)
    rows = sorted(
        facts.matrix,
        key=lambda r: (r["group_id"] is None, r["group_id"] or 0, r["province_code"], _status_order(r["status"])),
    )
    hidden = disclosure.suppressed_rows([r["count"] for r in rows], floor)
    # through console.spreadsheets: a group name typed as '=HYPERLINK(...)' leaves the company inert
    return spreadsheets.to_csv(
        COUNTS_CSV_HEADER,
        [
            [
                facts.group_name(r["group_id"]),
                facts.province_name(r["province_code"]),
                zh_label(COMPLAINANT_STATUS_ZH, r["status"]),
                r["count"],
                # a number the console computed: stays a number
                disclosure.DASH if index in hidden else money.to_yuan(r["principal_fen"] or 0, cents=True),
            ]
            for index, r in enumerate(rows)
        ],
    )


def consumer_association_packet(db, incident_id, now, settings, contact_person, contact_phone, suppressed=False):
    """A ZIP for the consumer association: packet.pdf and counts.csv."""
    _required(contact_person=contact_person, contact_phone=contact_phone)
    facts = Facts(db, incident_id, cell_floor(settings, suppressed))
    incident = facts.incident
    organisation = organisation_name(settings)
    totals = facts.totals()
    groups = facts.by("group_id")
    summary = Section(
        "一、案件概况",
        [
            f"{organisation}就“{incident['title']}”向贵会通报有关情况如下。",
            f"起因：{incident['cause']}",
            f"涉及客户 {totals['count']} 人，分布于{facts.province_list()}，涉及本金合计 {_amount(facts, totals, 'principal_fen')} 元。",
            f"当前处置状态：{zh_label(INCIDENT_STATUS_ZH, incident['status'])}。",
            *_money_table(facts, "province_code", "省份"),
        ],
    )
    product = Section(
        "二、产品情况",
        [
            f"涉及产品：{incident['product']}",
            f"问题起因：{incident['cause']}",
            f"事件严重程度：{zh_label(SEVERITY_ZH, incident['severity'])}",
            f"首笔投诉受理时间：{when_local(facts.first_received, settings) or NONE}；最近一笔：{when_local(facts.last_received, settings) or NONE}",
        ],
    )
    plan = Section(
        "三、处理方案",
        [
            "公司对同类客户执行统一的处理方案，各客户分组的处理口径如下：",
            Table(
                ["客户分组", "人数", "处理方案"],
                [
                    [facts.group_name(g), str(sums["count"]), (facts.groups[g]["handling_line"] if g in facts.groups else "") or "（方案制定中）"]
                    for g, sums in groups
                ],
                widths=[0.3, 0.1, 0.6],
                numeric=(1,),
            ),
        ],
    )
    timeline = Section("四、事件经过", [_timeline_table(_incident_timeline(db, incident, settings, full=False), settings)])
    contacts = Section(
        "五、联系方式",
        [
            Table(
                None,
                [["单位", organisation], ["联系人", contact_person], ["联系电话", contact_phone], ["材料日期", when_local(now, settings)]],
                widths=[0.2, 0.8],
            ),
            "附件：counts.csv（按客户分组、省份和处理状态汇总的人数和本金，仅含汇总数据，不含客户个人信息）。",
        ],
    )
    pdf = render_pdf(
        f"关于{incident['title']}的情况通报",
        [summary, product, plan, timeline, contacts],
        subtitle=f"致消费者协会　{organisation}",
        now=now,
        author=organisation,
    )
    local = now.astimezone(_tz(settings))
    stamp = (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (("packet.pdf", pdf), ("counts.csv", counts_csv(db, incident_id, facts.floor))):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


# --- 3. the media statement --------------------------------------------------------------------


def approved_line(db, incident_id):
    """The incident's latest agreed line approved by legal, or None."""
    rows = list(
        db.query(
            "SELECT * FROM agreed_line WHERE incident_id = ? AND approved_at IS NOT NULL ORDER BY approved_at DESC, id DESC LIMIT 1",
            [incident_id],
        )
    )
    return dict(rows[0]) if rows else None


def media_statement(db, incident_id, now, settings):
    """The holding statement: the latest approved agreed line, signed by the
    organisation, and nothing else: no figures, no dates, no personal data
    beyond what legal approved (the issue time is kept in issued_document)."""
    get_incident(db, incident_id)
    line = approved_line(db, incident_id)
    if line is None:
        raise Invalid(
            "There is no approved agreed line for this incident: legal must approve the line before a media statement is issued. "
            "（本事件尚无经法律合规部门审核通过的统一口径，不能出具媒体声明。）"
        )
    organisation = organisation_name(settings)
    paragraphs = [p.strip() for p in line["text"].splitlines() if p.strip()]
    return render_pdf("情况说明", [Section(None, [*paragraphs, Signature([organisation])])], now=now, author=organisation, footer=False)


# --- 4. the post-incident review ---------------------------------------------------------------


def _medians(rows, key, start, end):
    """{key value: (n, median seconds)} of end - start over rows that have both."""
    found = {}
    for r in rows:
        if r[start] and r[end]:
            found.setdefault(r[key], []).append((from_iso(r[end]) - from_iso(r[start])).total_seconds())
    return {k: (len(v), statistics.median(v)) for k, v in found.items()}


def incident_review(db, incident_id, now, settings, changes_to_playbook, suppressed=False):
    """The post-incident review (PDF): the full timeline, times to first contact
    and to settlement by group and region, tasks on time and late, and what
    the lead says the playbook should change (marked as not yet written
    when empty: the review is also made automatically at stand-down)."""
    facts = Facts(db, incident_id, cell_floor(settings, suppressed))
    incident = facts.incident
    organisation = organisation_name(settings)
    totals = facts.totals()

    events = _incident_timeline(db, incident, settings, full=True)
    tasks = incident_tasks(db, incident_id)
    for t in tasks:
        if t["status"] == "done" and t["completed_at"]:
            events.append((t["completed_at"], f"完成任务：{t['title']}"))
    for r in db.query("SELECT * FROM referral WHERE incident_id = ? ORDER BY sent_at, id", [incident_id]):
        party = zh_label(PARTY_ZH, r["party"])
        events.append((r["sent_at"], f"向{party}（{r['recipient']}）报送：{r['what_sent']}"))
        if r["acknowledged_at"]:
            by = f"，确认人：{r['acknowledged_by_name']}" if r["acknowledged_by_name"] else ""
            events.append((r["acknowledged_at"], f"{party}（{r['recipient']}）确认收到{by}"))
    for d in db.query("SELECT * FROM issued_document WHERE incident_id = ? ORDER BY issued_at, id", [incident_id]):
        events.append((d["issued_at"], f"出具{zh_label(DOCUMENT_KIND_ZH, d['kind'])}：{d['title']}（送{d['recipient']}）"))

    people = [
        dict(r)
        for r in db.query("SELECT group_id, province_code, received_at, first_contact_at, settled_at FROM complainant WHERE incident_id = ?", [incident_id])
    ]
    contact = {k: _medians(people, k, "received_at", "first_contact_at") for k in ("group_id", "province_code")}
    settle = {k: _medians(people, k, "received_at", "settled_at") for k in ("group_id", "province_code")}

    def speed_table(key, first_column):
        rows = []
        for value, sums in facts.by(key):
            c = contact[key].get(value)
            s = settle[key].get(value)
            rows.append(
                [
                    facts.label(key, value),
                    str(sums["count"]),
                    str(c[0]) if c else "0",
                    _duration(c[1]) if c else "—",
                    str(s[0]) if s else "0",
                    _duration(s[1]) if s else "—",
                ]
            )
        return Table(
            [first_column, "人数", "已联系", "首次联系用时（中位数）", _figure("settled_to_date"), "和解用时（中位数）"],
            rows,
            widths=[0.25, 0.08, 0.09, 0.24, 0.09, 0.25],
            numeric=(1, 2, 3, 4, 5),
        )

    all_contact = [(from_iso(p["first_contact_at"]) - from_iso(p["received_at"])).total_seconds() for p in people if p["first_contact_at"]]
    all_settle = [(from_iso(p["settled_at"]) - from_iso(p["received_at"])).total_seconds() for p in people if p["settled_at"]]

    done = [t for t in tasks if t["status"] == "done"]
    on_time = [t for t in done if t["completed_at"] and from_iso(t["completed_at"]) <= from_iso(t["due_at"])]
    late = [t for t in done if t not in on_time]
    still_open = [t for t in tasks if t["status"] != "done"]
    overdue = [t for t in still_open if from_iso(t["due_at"]) < now]
    not_due = [t for t in still_open if t not in overdue]

    def late_by(t):
        return _duration((from_iso(t["completed_at"]) - from_iso(t["due_at"])).total_seconds()) if t["completed_at"] else "—"

    sections = [
        Section(
            "一、事件概况",
            [
                f"事件名称：{incident['title']}",
                f"起因：{incident['cause']}；涉及产品：{incident['product']}；严重程度：{zh_label(SEVERITY_ZH, incident['severity'])}",
                f"立案时间：{when_local(incident['opened_at'], settings)}；"
                f"{'群体性事件认定时间：' + when_local(incident['mass_incident_at'], settings) if incident.get('mass_incident_at') else '未构成群体性事件'}；"
                f"{'结案时间：' + when_local(incident['closed_at'], settings) if incident.get('closed_at') else '当前状态：' + zh_label(INCIDENT_STATUS_ZH, incident['status'])}",
                f"涉及客户 {totals['count']} 人，分布于{facts.province_list()}，涉及本金 {_amount(facts, totals, 'principal_fen')} 元。",
                *_money_table(facts, "status", "处理状态"),
            ],
        ),
        Section("二、完整时间线", [_timeline_table(events, settings)]),
        Section(
            "三、响应速度",
            [
                f"全部客户：首次联系用时中位数 {_duration(statistics.median(all_contact)) if all_contact else '—'}（{len(all_contact)} 人已联系），"
                f"和解用时中位数 {_duration(statistics.median(all_settle)) if all_settle else '—'}（{_figure('settled_to_date')} {len(all_settle)} 人）。"
                "用时自投诉受理时起算。",
                "（一）按客户分组",
                speed_table("group_id", "客户分组"),
                "（二）按地区",
                speed_table("province_code", "省份"),
            ],
        ),
        Section(
            "四、任务完成情况",
            [
                f"共 {len(tasks)} 项任务：按时完成 {len(on_time)} 项，逾期完成 {len(late)} 项，"
                f"截至 {when_local(now, settings)} 仍未完成且已过期限 {len(overdue)} 项，未到期限 {len(not_due)} 项。",
                "逾期完成的任务：",
                Table(
                    ["任务", "期限", "完成时间", "逾期"],
                    [[t["title"], when_local(t["due_at"], settings), when_local(t["completed_at"], settings), late_by(t)] for t in late],
                    widths=[0.4, 0.2, 0.2, 0.2],
                ),
                "已过期限仍未完成的任务：",
                Table(
                    ["任务", "期限", "负责方", "已逾期"],
                    [
                        [
                            t["title"],
                            when_local(t["due_at"], settings),
                            zh_label(ROLE_ZH, t["owner_role"]),
                            _duration((now - from_iso(t["due_at"])).total_seconds()),
                        ]
                        for t in overdue
                    ],
                    widths=[0.4, 0.2, 0.2, 0.2],
                ),
            ],
        ),
        Section("五、应急预案修订建议", [(changes_to_playbook or "").strip() or "（应急处置负责人尚未填写）"]),
        _definitions(REVIEW_FIGURES),
        Section(None, [Signature([f"编制单位：{organisation}", f"编制时间：{when_local(now, settings)}"])]),
    ]
    return render_pdf(f"关于{incident['title']}的事后复盘报告", sections, now=now, author=organisation)


# --- keeping what was issued -------------------------------------------------------------------


class DocumentIntegrityError(ConsoleError):
    """A stored issued document no longer matches the hash it was issued with."""

    status = 500


def _safe_filename(filename):
    name = Path(str(filename or "")).name
    if not name or name != filename or name in (".", "..") or "\x00" in name:
        raise Invalid(f"Not a usable file name for an issued document: {filename!r} (a plain name, no folders).")
    return name


def _keep_file(folder, name, content):
    """Write ``content`` read-only to ``folder/<sha256>-<name>`` (or check the
    file already there); returns (stored name, sha256)."""
    if not isinstance(content, (bytes, bytearray)):
        raise TypeError("content must be bytes")
    content = bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{digest}-{name}"
    target = folder / stored_name
    if target.exists():
        # the same bytes issued before: the file is already there, if untouched
        found = hashlib.sha256(target.read_bytes()).hexdigest()
        if found != digest:
            raise DocumentIntegrityError(f"The stored file {target} should have sha256 {digest} but has {found}: it was changed after it was written.")
    else:
        temporary = folder / f".{stored_name}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(temporary, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    os.chmod(target, 0o444)
    return stored_name, digest


def store_issued(db, incident_id, kind, title, recipient, filename, content_type, content, issued_by, now, folder):
    """Keep an issued document: the bytes in ``folder/<sha256>-<filename>``
    (read-only), the record in issued_document (which cannot be changed or
    deleted). Returns the new row's id."""
    name = _safe_filename(filename)
    get_incident(db, incident_id)
    stored_name, digest = _keep_file(folder, name, content)
    row = {
        "incident_id": incident_id,
        "kind": kind,
        "title": title,
        "recipient": recipient,
        "issued_at": to_iso(now),
        "issued_by": issued_by,
        "filename": name,
        "content_type": content_type,
        "stored_path": stored_name,
        "size": len(content),
        "sha256": digest,
    }
    with write(db):
        return db["issued_document"].insert(row).last_pk


def store_rendering(db, document_id, audience, content, min_cell_people, folder):
    """Keep the rendering of issued document ``document_id`` that ``audience``
    ('aggregate': executives) downloads instead of the copy issued."""
    row = dict(db["issued_document"].get(document_id))
    stored_name, digest = _keep_file(folder, f"{audience}-{row['filename']}", content)
    with write(db):
        db["issued_document_rendering"].insert(
            {
                "document_id": document_id,
                "audience": audience,
                "min_cell_people": min_cell_people,
                "stored_path": stored_name,
                "size": len(content),
                "sha256": digest,
            }
        )


def read_issued(db, document_id, folder, audience=None):
    """(row, bytes) of an issued document, after checking the file still has the
    sha256 and size it was issued with (DocumentIntegrityError otherwise).
    With ``audience`` ('aggregate'), the rendering kept for that audience;
    NotFound when the document has none (issued before renderings were kept)."""
    rows = list(db.query("SELECT * FROM issued_document WHERE id = ?", [document_id]))
    if not rows:
        raise NotFound(f"No issued document {document_id}.")
    row = dict(rows[0])
    if audience is not None:
        kept = list(db.query("SELECT * FROM issued_document_rendering WHERE document_id = ? AND audience = ?", [document_id, audience]))
        if not kept:
            raise NotFound(
                f"Issued document {document_id} has no rendering with small figures suppressed (it was issued before those were kept): "
                "ask the crisis lead for a newly issued one. （该文件签发时尚未保存汇总版本，请联系危机负责人重新出具。）"
            )
        row = {**row, **{k: kept[0][k] for k in ("stored_path", "size", "sha256")}}
    path = Path(folder) / row["stored_path"]
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise DocumentIntegrityError(f"Issued document {document_id}: its file {path} is missing.") from None
    found = hashlib.sha256(content).hexdigest()
    if found != row["sha256"] or len(content) != row["size"]:
        raise DocumentIntegrityError(
            f"Issued document {document_id}: sha256 mismatch: the file {path} has sha256 {found} ({len(content)} bytes) "
            f"but was issued with sha256 {row['sha256']} ({row['size']} bytes); it was changed after it was issued."
        )
    return row, content
