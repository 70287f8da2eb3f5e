"""4. The post-incident review (事后复盘)."""

import statistics

from ..clock import from_iso
from .facts import Facts, amount, cell_floor, incident_tasks, incident_timeline, money_table, timeline_table
from .pdf import Section, Signature, Table, render_pdf
from .words import (
    DOCUMENT_KIND_ZH,
    INCIDENT_STATUS_ZH,
    PARTY_ZH,
    REVIEW_FIGURES,
    ROLE_ZH,
    SEVERITY_ZH,
    definitions,
    duration,
    figure,
    organisation_name,
    when_local,
    zh_label,
)

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

    events = incident_timeline(db, incident, settings, full=True)
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
                    duration(c[1]) if c else "—",
                    str(s[0]) if s else "0",
                    duration(s[1]) if s else "—",
                ]
            )
        return Table(
            [first_column, "人数", "已联系", "首次联系用时（中位数）", figure("settled_to_date"), "和解用时（中位数）"],
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
        return duration((from_iso(t["completed_at"]) - from_iso(t["due_at"])).total_seconds()) if t["completed_at"] else "—"

    sections = [
        Section(
            "一、事件概况",
            [
                f"事件名称：{incident['title']}",
                f"起因：{incident['cause']}；涉及产品：{incident['product']}；严重程度：{zh_label(SEVERITY_ZH, incident['severity'])}",
                f"立案时间：{when_local(incident['opened_at'], settings)}；"
                f"{'群体性事件认定时间：' + when_local(incident['mass_incident_at'], settings) if incident.get('mass_incident_at') else '未构成群体性事件'}；"
                f"{'结案时间：' + when_local(incident['closed_at'], settings) if incident.get('closed_at') else '当前状态：' + zh_label(INCIDENT_STATUS_ZH, incident['status'])}",
                f"涉及客户 {totals['count']} 人，分布于{facts.province_list()}，涉及本金 {amount(facts, totals, 'principal_fen')} 元。",
                *money_table(facts, "status", "处理状态"),
            ],
        ),
        Section("二、完整时间线", [timeline_table(events, settings)]),
        Section(
            "三、响应速度",
            [
                f"全部客户：首次联系用时中位数 {duration(statistics.median(all_contact)) if all_contact else '—'}（{len(all_contact)} 人已联系），"
                f"和解用时中位数 {duration(statistics.median(all_settle)) if all_settle else '—'}（{figure('settled_to_date')} {len(all_settle)} 人）。"
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
                            duration((now - from_iso(t["due_at"])).total_seconds()),
                        ]
                        for t in overdue
                    ],
                    widths=[0.4, 0.2, 0.2, 0.2],
                ),
            ],
        ),
        Section("五、应急预案修订建议", [(changes_to_playbook or "").strip() or "（应急处置负责人尚未填写）"]),
        definitions(REVIEW_FIGURES),
        Section(None, [Signature([f"编制单位：{organisation}", f"编制时间：{when_local(now, settings)}"])]),
    ]
    return render_pdf(f"关于{incident['title']}的事后复盘报告", sections, now=now, author=organisation)
