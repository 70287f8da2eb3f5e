"""1. The regulator's report (监管报告)."""

from datetime import timedelta

from .. import figures, masking
from ..clock import from_iso, to_iso
from ..updates import latest_by_branch
from .facts import Facts, amount, cell_floor, incident_tasks, money_table
from .pdf import Section, Table, render_pdf
from .words import INCIDENT_STATUS_ZH, MOOD_ZH, NO_BRANCH, NONE, ROLE_ZH, SEVERITY_ZH, definitions, figure, organisation_name, required, when_local, zh_label

# --- 1. the regulator's report -----------------------------------------------------------------


def regulator_report(db, incident_id, now, settings, signing_officer, contact_person, contact_phone, suppressed=False):
    """The written report to the regulator (PDF), with every item the reporting
    rules ask for: what happened, where and when; nature and level; people and
    amounts by group, region and status; the stability situation and trend;
    measures taken and planned; help needed; reporting unit, signing officer,
    contact person and phone."""
    required(signing_officer=signing_officer, contact_person=contact_person, contact_phone=contact_phone)
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
            f"是否构成重大消费投诉（{major_at} 人以上共同到场）：{'是' if peak >= major_at else '否'}（各网点报告的{figure('peak_on_site')}：{peak} 人）",
        ],
    )

    amounts = Section(
        "三、涉及人数和金额",
        [
            f"共涉及客户 {totals['count']} 人，涉及本金 {amount(facts, totals, 'principal_fen')} 元，"
            f"主张利息 {amount(facts, totals, 'interest_fen')} 元，主张费用 {amount(facts, totals, 'expenses_fen')} 元。",
            "（一）按客户分组",
            *money_table(facts, "group_id", "客户分组"),
            "（二）按地区",
            *money_table(facts, "province_code", "省份"),
            "（三）按处理状态",
            *money_table(facts, "status", "处理状态"),
            f"和解情况：{figure('settled_now')} {figures.settled_now(db, incident_id)} 人，"
            f"{figure('settled_to_date')} {figures.settled_to_date(db, incident_id)} 人（两者的区别见文末指标说明）。",
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
        [header, happened, nature, amounts, stability, measures, next_steps, help_needed, sign_off, definitions(figures.REGULATOR_REPORT)],
        now=now,
        author=organisation,
    )


def _forecast_sentence(db, incident_id, now):
    """The trend ahead for the regulator: the early-warning forecast (console/forecast.py)."""
    from ..forecast import incident_forecast

    horizons = {h["hours"]: h for h in incident_forecast(db, incident_id, now)["horizons"]}
    parts = [
        f"{label}新增约 {horizons[hours]['expected']} 人（80% 区间 {horizons[hours]['low']}–{horizons[hours]['high']} 人）"
        for hours, label in ((24, "未来 24 小时"), (72, "未来 72 小时"), (168, "未来 7 天"))
        if hours in horizons
    ]
    return "趋势预测：" + "，".join(parts) + "（按投诉到达时间拟合指数平滑模型预测）。"
