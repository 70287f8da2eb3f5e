"""The written early-warning plan (预警方案, seed 000 "危机预警"): a PDF built
from the live data, issued and kept like the other documents
(console/issuing.py, kind ``early_warning_plan``).

What it holds, as the seed asks: how many complaints are still to come (the
forecast for 24 h, 72 h and 7 days with its 80% interval) and what people will
claim and demand; the one agreed line; and the planned answer: each group's
handling line, answered one to one, the early-acceptance tiers, and the
planned steps. Complainants appear only as counts and sums; a suppressed
rendering (executives) shows no amount over fewer than MIN_CELL_PEOPLE people.
"""

from . import disclosure, forecast, money, vocabulary
from .clock import from_iso
from .documents import (
    NONE,
    ROLE_ZH,
    SEVERITY_ZH,
    Facts,
    Section,
    Signature,
    Table,
    approved_line,
    cell_floor,
    handling_table,
    incident_tasks,
    organisation_name,
    render_pdf,
    when_local,
    zh_label,
)

DEMAND_ZH = vocabulary.FORMAL_DEMAND_KINDS  # the documents' wording (console/vocabulary.py)
HORIZON_ZH = {24: "未来 24 小时", 72: "未来 72 小时", 168: "未来 7 天"}
METHOD_ZH = {
    "ets": "按到达时间（每 3 小时计数）拟合指数平滑模型（statsmodels ETS），模拟 1,000 种后续走势取中位数；区间为 80% 预测区间，并按回测误差放宽。",
    "poisson": "已有数据不足 18 小时，按目前的到达速度（泊松分布）估计。",
}


def early_warning_plan(db, incident_id, now, settings, suppressed=False):
    """The early-warning plan (PDF)."""
    facts = Facts(db, incident_id, cell_floor(settings, suppressed))
    incident = facts.incident
    organisation = organisation_name(settings)
    totals = facts.totals()
    outlook = forecast.incident_forecast(db, incident_id, now)

    situation = Section(
        "一、事件概况",
        [
            f"事件名称：{incident['title']}",
            f"起因：{incident['cause']}；涉及产品：{incident['product']}；严重程度：{zh_label(SEVERITY_ZH, incident['severity'])}",
            f"截至 {when_local(now, settings)}，已登记投诉客户 {totals['count']} 人，分布于{facts.province_list()}；近 24 小时新增 {outlook['last_24h']} 人。",
        ],
    )

    counts = Section(
        "二、投诉数量预测",
        [
            "预计新增投诉客户：",
            Table(
                ["时段", "预计新增（人）", "80% 区间（人）"],
                [[HORIZON_ZH.get(h["hours"], f"未来 {h['hours']} 小时"), str(h["expected"]), f"{h['low']}–{h['high']}"] for h in outlook["horizons"]],
                widths=[0.3, 0.3, 0.4],
                numeric=(1,),
            ),
            f"预测方法：{METHOD_ZH[outlook['method']]}",
        ],
    )

    hide_amounts = disclosure.small(totals["count"], facts.floor)
    money_rows = []
    for e in outlook["exposure"]:
        label = HORIZON_ZH.get(e["hours"], f"未来 {e['hours']} 小时")
        if e["expected_fen"] is None or hide_amounts:
            money_rows.append([label, disclosure.DASH, disclosure.DASH])
        else:
            low, high = (money.format(e[key] or 0, plain=True) for key in ("low_fen", "high_fen"))
            money_rows.append([label, money.format(e["expected_fen"], plain=True), f"{low}–{high}"])
    claims = Section(
        "三、预计涉及金额",
        [
            "按已登记客户主张的金额（本金、利息、费用）分布，预计新增客户主张的金额：",
            Table(["时段", "预计主张金额（元）", "80% 区间（元）"], money_rows, widths=[0.3, 0.3, 0.4], numeric=(1,)),
            *([disclosure.NOTE_ZH.format(n=facts.floor)] if hide_amounts else []),
        ],
    )

    shares = outlook["demands"]
    demands = Section(
        "四、客户诉求",
        [
            f"已记录诉求的客户 {shares['people']} 人，各类诉求所占比例（一人可有多项）：",
            Table(
                ["诉求", "人数", "占比"],
                [[zh_label(DEMAND_ZH, s["kind"]), str(s["people"]), f"{s['share'] * 100:.0f}%"] for s in shares["shares"]],
                widths=[0.5, 0.2, 0.3],
                numeric=(1, 2),
                empty="尚无客户记录诉求。",
            ),
        ],
    )

    line = approved_line(db, incident_id)
    draft = (
        None if line else next(iter(db.execute("SELECT text FROM agreed_line WHERE incident_id = ? ORDER BY id DESC LIMIT 1", [incident_id]).fetchall()), None)
    )
    if line:
        answer_line = [
            f"经法律合规部门审核（{when_local(line['approved_at'], settings)}）的统一口径：",
            *[p.strip() for p in line["text"].splitlines() if p.strip()],
        ]
    elif draft:
        answer_line = ["统一口径尚未经法律合规部门审核，以下为草稿，审核通过前不得对外使用：", *[p.strip() for p in draft[0].splitlines() if p.strip()]]
    else:
        answer_line = ["统一口径尚未拟定：须与公关部门共同拟定，经法律合规部门审核后方可使用。"]
    agreed = Section("五、统一答复口径", answer_line)

    tiers = _tiers(db, incident_id)
    tasks = [t for t in incident_tasks(db, incident_id) if t["status"] != "done"]
    plan = Section(
        "六、拟采取的答复方案",
        [
            "答复方式：按客户分组逐一答复（一对一），各组执行同一内部方案，不因个别客户施压而改变；对外统一使用上述口径，必要时经审核后通过媒体公开答复。",
            handling_table(facts),
            *(["提前接受方案的分档（越早接受，档位越高）：", Table(["客户分组", "档位", "接受期间"], tiers, widths=[0.35, 0.35, 0.3])] if tiers else []),
            "后续工作安排：",
            Table(
                ["完成时限", "措施", "负责方"],
                [
                    [when_local(t["due_at"], settings) + ("（已逾期）" if from_iso(t["due_at"]) < now else ""), t["title"], zh_label(ROLE_ZH, t["owner_role"])]
                    for t in sorted(tasks, key=lambda t: (t["due_at"], t["id"]))
                ][:20],
                widths=[0.3, 0.5, 0.2],
                empty=NONE,
            ),
        ],
    )
    return render_pdf(
        f"关于{incident['title']}的预警方案",
        [situation, counts, claims, demands, agreed, plan, Section(None, [Signature([organisation, when_local(now, settings)])])],
        now=now,
        author=organisation,
    )


def _tiers(db, incident_id):
    """Early-acceptance tiers per group: names and dates only (the awards are
    settlement amounts, for the lead and legal)."""
    rows = db.execute(
        "SELECT g.name, t.name, t.starts_on, t.ends_on FROM settlement_tier t JOIN complainant_group g ON g.id = t.group_id "
        "WHERE g.incident_id = ? ORDER BY g.id, t.starts_on",
        [incident_id],
    ).fetchall()
    return [[r[0], r[1], f"{r[2]} 至 {r[3]}"] for r in rows]
