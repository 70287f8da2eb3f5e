"""Facts read from the database for the documents: the incident, its counts, amounts, tasks and timeline."""

import json

from .. import catalogue, disclosure, money, regions
from ..clock import from_iso
from ..incidents import get_incident
from ..status import FUNNEL
from .pdf import Table
from .words import COMPLAINANT_STATUS_ZH, INCIDENT_FIELD_ZH, INCIDENT_STATUS_ZH, NO_GROUP, NONE, when_local, zh_label

# --- facts read from the database --------------------------------------------------------------


def status_order(status):
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
            ordered = sorted(keys, key=status_order)
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


def money_table(facts, key, first_column):
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


def amount(facts, sums, key):
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


def incident_timeline(db, incident, settings, full):
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


def timeline_table(events, settings):
    ordered = sorted(events, key=lambda e: from_iso(e[0]))
    return Table(["时间", "事项"], [[when_local(at, settings), what] for at, what in ordered], widths=[0.24, 0.76])


def handling_table(facts):
    """Each complainant group with its people and its handling line (the one plan for like cases)."""
    return Table(
        ["客户分组", "人数", "处理方案"],
        [
            [facts.group_name(g), str(sums["count"]), (facts.groups[g]["handling_line"] if g in facts.groups else "") or "（方案制定中）"]
            for g, sums in facts.by("group_id")
        ],
        widths=[0.3, 0.1, 0.6],
        numeric=(1,),
    )
