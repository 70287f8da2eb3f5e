"""2. The consumer association's packet (消费者协会材料) and the counts CSV that goes with it."""

import io
import zipfile

from .. import disclosure, money, spreadsheets
from .facts import Facts, amount, cell_floor, handling_table, incident_timeline, money_table, status_order, timeline_table
from .pdf import Section, Table, render_pdf
from .words import COMPLAINANT_STATUS_ZH, INCIDENT_STATUS_ZH, NONE, SEVERITY_ZH, definitions, figure, organisation_name, required, tz, when_local, zh_label

# --- 2. the consumer association's packet ------------------------------------------------------

PACKET_FIGURES = ("complainants",)  # the headline figures the packet states, defined at its end
COUNTS_CSV_HEADER = ["客户分组", "省份", "处理状态", "人数", "本金（元）"]


def counts_csv(db, incident_id, floor=0):
    """Complainants by group x province x status with the principal: aggregates
    only, UTF-8 with a byte-order mark so Excel reads the Chinese. With a
    ``floor`` (a suppressed rendering) a row of fewer people has no principal."""
    facts = Facts(db, incident_id, floor)
    rows = sorted(
        facts.matrix,
        key=lambda r: (r["group_id"] is None, r["group_id"] or 0, r["province_code"], status_order(r["status"])),
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
    required(contact_person=contact_person, contact_phone=contact_phone)
    facts = Facts(db, incident_id, cell_floor(settings, suppressed))
    incident = facts.incident
    organisation = organisation_name(settings)
    totals = facts.totals()
    summary = Section(
        "一、案件概况",
        [
            f"{organisation}就“{incident['title']}”向贵会通报有关情况如下。",
            f"起因：{incident['cause']}",
            f"涉及客户（{figure('complainants')}）{totals['count']} 人，分布于{facts.province_list()}，涉及本金合计 {amount(facts, totals, 'principal_fen')} 元。",
            f"当前处置状态：{zh_label(INCIDENT_STATUS_ZH, incident['status'])}。",
            *money_table(facts, "province_code", "省份"),
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
            handling_table(facts),
        ],
    )
    timeline = Section("四、事件经过", [timeline_table(incident_timeline(db, incident, settings, full=False), settings)])
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
        [summary, product, plan, timeline, contacts, definitions(PACKET_FIGURES)],
        subtitle=f"致消费者协会　{organisation}",
        now=now,
        author=organisation,
    )
    local = now.astimezone(tz(settings))
    stamp = (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (("packet.pdf", pdf), ("counts.csv", counts_csv(db, incident_id, facts.floor))):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()
