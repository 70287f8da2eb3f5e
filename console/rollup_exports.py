"""A roll-up as a table of (section, item, value) rows: the CSV, the XLSX and
the page all show these same rows, so the exports hold the page's numbers."""

import json

from . import disclosure, documents, figures, money, spreadsheets, tables, vocabulary
from .clock import local

# Labels: console/vocabulary.py, in Chinese (the catalogue's words, as the roll-up page shows them).
STATUS_ZH = vocabulary.COMPLAINANT_STATUSES
CHANNEL_ZH = vocabulary.ESCALATION_CHANNELS
TYPE_ZH = vocabulary.ROLLUP_TYPES
DEMAND_ZH = vocabulary.DEMAND_KINDS
ROLLUP_STATUS_ZH = vocabulary.ROLLUP_STATUSES
_zh = vocabulary.zh


def _stream_zh(stream):
    """A task stream's Chinese name, from the playbooks that declare it (the one place streams are named)."""
    from . import playbooks

    try:
        for book in playbooks.available().values():
            if stream in book.streams:
                return book.streams[stream].zh
    except playbooks.PlaybookError:
        pass
    return stream


def rows(rollup, group_names=None, province_names=None, tz="Asia/Shanghai"):
    """The roll-up's figures as (section, item, value) rows, in reading order; times in ``tz``."""
    c = json.loads(rollup["content"]) if isinstance(rollup["content"], str) else rollup["content"]

    def when(text):
        return f"{local(text, tz):%Y-%m-%d %H:%M}" if text else ""

    out = [
        ("报告", "编号", rollup["number"]),
        ("报告", "类型", _zh(TYPE_ZH, rollup["report_type"])),
        ("报告", "统计期起", when(rollup["period_start"])),
        ("报告", "统计期止", when(rollup["period_end"])),
        ("报告", "生成时间", when(rollup["generated_at"])),
        ("报告", "是否迟报", "是" if rollup["late"] else "否"),
        ("报告", "状态", _zh(ROLLUP_STATUS_ZH, rollup["status"])),
        ("报告", "下次报告时间", when(rollup["next_rollup_at"])),
    ]
    # the headline figures (console/figures.py): settled now beside settled to date, each named for what it counts
    headline = {
        "complainants": c["totals"]["complainants"],
        "new_in_period": c["new_in_period"],
        "settled_in_period": c["settled"]["in_period"],
        "settled_to_date": c["settled"]["to_date"],
        "settled_now": c["totals"]["by_status"].get(figures.CURRENT_STATUS["settled_now"], 0),
    }
    out += [("合计", figures.FIGURES[key].zh_label, headline[key]) for key in figures.ROLLUP]
    for g in c["totals"]["by_group"]:
        out.append(("按分组", g["name"] or "未分组", g["count"]))
    for r in c["totals"]["by_region"]:
        out.append(("按地区", r["name"], r["count"]))
    for status, n in sorted(c["totals"]["by_status"].items()):
        out.append(("按状态", _zh(STATUS_ZH, status), n))
    changes = c.get("changes") or {}
    if changes:
        out.append(("较上期变化", "投诉人总数", changes["complainants"]))
        for status, n in changes["by_status"].items():
            out.append(("较上期变化（状态）", _zh(STATUS_ZH, status), n))
    for ch, n in c["escalations"].items():
        out.append(("升级渠道", _zh(CHANNEL_ZH, ch), n))
    a = c["amounts"]
    if rollup.get("amounts_suppressed_below"):  # an executive's copy of a roll-up over too few people (rollups.for_viewer)
        out += [("金额（元）", item, disclosure.DASH) for item in ("诉求合计", "本金", "利息诉求", "费用诉求")]
        out += [
            ("金额（元）", "涉及人数", c["totals"]["complainants"]),
            ("金额（元）", "说明", disclosure.NOTE_ZH.format(n=rollup["amounts_suppressed_below"])),
        ]
    else:
        out += [
            ("金额（元）", "诉求合计", money.to_yuan(a["claimed_fen"], cents=True)),
            ("金额（元）", "本金", money.to_yuan(a["principal_fen"], cents=True)),
            ("金额（元）", "利息诉求", money.to_yuan(a["interest_claimed_fen"], cents=True)),
            ("金额（元）", "费用诉求", money.to_yuan(a["expenses_claimed_fen"], cents=True)),
        ]
    s = c.get("settlements")
    if s:  # roll-ups made before settlement records have none
        out += [("和解（人数）", "待答复方案", s["open_offers"]), ("和解（人数）", "已接受未签署", s["accepted"]), ("和解（人数）", "已签署和解", s["final"])]
    for b in c["branches"]["peak_on_site"]:
        out.append(("网点现场最高人数", b["name"], b["peak_on_site"]))
    for b in c["branches"]["missed_updates"]:
        out.append(("未按时报送的网点", b["name"], b["alerts"]))
    for t in c["tasks_by_stream"]:
        stream = f"任务：{_stream_zh(t['stream'])}"
        out += [(stream, "本期完成", t["done_in_period"]), (stream, "24小时内到期", t["due_open"]), (stream, "已逾期", t["overdue"])]
    out.append(("媒体", "本期媒体条目", len(c["media_items"])))
    d = c["deadlines_next_24h"]
    out += [
        ("未来24小时到期", "处理决定", d["decisions"]),
        ("未来24小时到期", "约定联系", d["promised_contacts"]),
        ("未来24小时到期", "任务", d["tasks"]),
        ("未来24小时到期", "待对方确认", d["referral_acknowledgements"]),
    ]
    for label, key in (("首次联系中位时长（小时）", "to_first_contact"), ("和解中位时长（小时）", "to_settlement")):
        m = c["median_hours"][key]
        out.append((label, "总体", m["overall"]))
        for g in m["by_group"]:
            out.append((label, f"分组 {(group_names or {}).get(g['group_id'], g['group_id'] or '未分组')}", g["hours"]))
        for r in m["by_region"]:
            out.append((label, f"地区 {(province_names or {}).get(r['province_code'], r['province_code'])}", r["hours"]))
    f = c.get("forecast")
    if f:  # roll-ups made before the early warning have none
        out.append(("预警预测（新增投诉人）", "近24小时实际新增", f["last_24h"]))
        for h in f["horizons"]:
            label = {24: "未来24小时", 72: "未来72小时", 168: "未来7天"}.get(h["hours"], f"未来{h['hours']}小时")
            out.append(("预警预测（新增投诉人）", f"{label}（80%区间 {h['low']}–{h['high']}）", h["expected"]))
        for d in f["demands"]["shares"]:
            out.append(("客户诉求（人数）", _zh(DEMAND_ZH, d["kind"]), d["people"]))
    out += [("负责人意见", "概述", rollup["summary"]), ("负责人意见", "展望", rollup["outlook"]), ("负责人意见", "需求", rollup["needs"])]
    out += [(DEFINITIONS_SECTION, label, definition) for label, definition in figures.zh_definitions(figures.ROLLUP)]
    # the order people read it in: the report, the lead's summary, the headline figures and their change,
    # then the tables by group, region and status; the rest as made (a stable sort keeps each section's rows)
    rank = {name: i for i, name in enumerate(READING_ORDER)}
    return sorted(out, key=lambda r: rank.get(r[0], len(READING_ORDER)))


AMOUNT_SECTION = "金额（元）"
DEFINITIONS_SECTION = "指标说明"
READING_ORDER = ("报告", "负责人意见", "合计", "较上期变化", "较上期变化（状态）", AMOUNT_SECTION, "按分组", "按地区", "按状态")
SUMMARY_SECTIONS = ("报告", "负责人意见", "合计", "较上期变化", "较上期变化（状态）", AMOUNT_SECTION)


def sections(table):
    """The rows by section, in reading order: [(section, [(item, value), ...]), ...]."""
    out = {}
    for section, item, value in table:
        out.setdefault(section, []).append((item, value))
    return list(out.items())


def shown(section, value):
    """A value as the page and the PDF show it."""
    if section == AMOUNT_SECTION:
        return money.format_yuan(value)  # ¥32,497,056.00; the suppression dash as it is
    return "" if value is None else str(value)


# The rows are in Chinese (the roll-up goes to head office and the regulator): so are the headers.
HEADERS = ["栏目", "项目", "数值"]


def to_csv(rollup, **names):  # names: group_names, province_names, tz
    return tables.to_csv(HEADERS, rows(rollup, **names))


def to_xlsx(rollup, **names):
    """A sheet per table (Chinese headers; amounts as numbers shown ¥#,##0.00), then every row on one sheet, as in the CSV."""
    table = rows(rollup, **names)
    sheets = [(section, ["项目", "数值"], items, (34, 20), {2: YUAN_FORMAT} if section == AMOUNT_SECTION else {}) for section, items in sections(table)]
    sheets.append((ALL_ROWS_SHEET, HEADERS, table, (26, 30, 18), {}))
    return spreadsheets.to_xlsx_book(sheets)


ALL_ROWS_SHEET = "全部数据"
YUAN_FORMAT = '"¥"#,##0.00'


def summary_page(table):
    """Page 1 of the roll-up PDF, from the same rows: the report's facts in one line,
    the lead's summary, outlook and needs, then the headline figures with their
    change since the last roll-up (the day before for a daily one). Returns ``documents`` sections."""
    by = {}
    for section, item, value in table:
        by.setdefault(section, []).append((item, value))
    facts = dict(by.get("报告", []))
    line = (
        f"编号 第{facts.get('编号', '')}期 · 状态 {facts.get('状态', '')} · 生成时间 {facts.get('生成时间', '')}"
        f"{' · 迟报' if facts.get('是否迟报') == '是' else ''} · 下次报告 {facts.get('下次报告时间') or '—'}"
    )
    lead = dict(by.get("负责人意见", []))
    words = [f"{item}：{lead.get(item) or '（未填写）'}" for item in ("概述", "展望", "需求")]

    def change(n):
        return "" if n is None else (f"{n:+d}" if isinstance(n, int) else str(n))

    changes = dict(by.get("较上期变化", []))
    status_changes = dict(by.get("较上期变化（状态）", []))
    figures = [[item, shown("合计", value), change(changes.get(item))] for item, value in by.get("合计", [])]
    figures += [
        [f"状态：{item}", shown("按状态", value), change(status_changes.get(item, 0 if status_changes else None))] for item, value in by.get("按状态", [])
    ]
    amounts = [[item, shown(AMOUNT_SECTION, value)] for item, value in by.get(AMOUNT_SECTION, [])]
    since = "较上期变化" if changes or status_changes else "较上期变化（无上期）"
    blocks = [
        documents.Section("摘要", [line]),
        documents.Section("负责人意见", words),
        documents.Section("主要数字", [documents.Table(["项目", "数值", since], figures, widths=[0.5, 0.22, 0.28], numeric=(1, 2))]),
    ]
    if amounts:
        blocks.append(documents.Section(AMOUNT_SECTION, [documents.Table(["项目", "金额"], amounts, widths=[0.5, 0.5], numeric=(1,))]))
    notes = by.get(DEFINITIONS_SECTION, [])
    if notes:  # what each headline figure counts, after the figures and amounts
        blocks.append(documents.Section(DEFINITIONS_SECTION, [f"{item}：{meaning}" for item, meaning in notes]))
    blocks.append(documents.Section(None, [documents.PageBreak()]))
    return blocks


# shown on page 1 (summary_page), so not repeated among the tables that follow
ON_SUMMARY_PAGE = SUMMARY_SECTIONS + (DEFINITIONS_SECTION,)


def to_pdf(rollup, incident, settings, **names):
    """The roll-up as a PDF in Chinese: a one-page summary (summary_page), then the
    tables by group, region and status and the rest, one table per section."""
    table = rows(rollup, tz=settings["TIMEZONE"], **names)
    grouped = {}
    for section, item, value in table:
        if section not in ON_SUMMARY_PAGE:
            grouped.setdefault(section, []).append([str(item), shown(section, value)])
    title = f"{incident['title']} · 每日情况汇总 第{rollup['number']}期（{_zh(TYPE_ZH, rollup['report_type'])}）"
    period = f"{local(rollup['period_start'], settings['TIMEZONE']):%Y-%m-%d %H:%M} 至 {local(rollup['period_end'], settings['TIMEZONE']):%Y-%m-%d %H:%M}"
    blocks = [documents.Section(name, [documents.Table(["项目", "数值"], rows_, widths=[0.6, 0.4], numeric=(1,))]) for name, rows_ in grouped.items()]
    return documents.render_pdf(title, summary_page(table) + blocks, subtitle=f"统计期：{period}")
