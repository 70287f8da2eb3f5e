"""Who may do what, and which records each person can see.

The policy, in one place:
- A role that may never use a route gets 403 (the route's existence is no
  secret).
- A record outside the caller's scope gets 404, the same answer as a record
  that does not exist, so a branch contact cannot probe another region's ids.
- Branch contacts are scoped to a province or one branch and read and write
  only complainants there. Executives get aggregates only: no route that
  returns a name, phone or ID number is open to them.
"""

from dataclasses import dataclass
from typing import Optional

ALL = frozenset({"lead", "team", "branch", "executive", "legal"})

PERMISSIONS = {
    "incident.read": ALL,
    "incident.write": frozenset({"lead", "team"}),
    "incident.status": frozenset({"lead"}),
    "group.write": frozenset({"lead", "team"}),
    "complainant.read": frozenset({"lead", "team", "branch", "legal"}),
    "complainant.write": frozenset({"lead", "team", "branch"}),
    "complainant.reveal": frozenset({"lead", "team", "branch", "legal"}),
    "complainant.extend": frozenset({"lead", "team"}),
    # one person, one record: merging two complainants and undoing it (audited)
    "complainant.merge": frozenset({"lead", "team"}),
    "contact.write": frozenset({"lead", "team", "branch"}),
    "audit.read": frozenset({"lead"}),
    "intake.write": frozenset({"lead", "team"}),
    "update.write": frozenset({"lead", "team", "branch"}),
    # marking a branch's request (the needs of its update) handled
    "request.handle": frozenset({"lead", "team"}),
    "alert.ack": frozenset({"lead", "team"}),
    "task.write": frozenset({"lead", "team", "legal"}),
    "referral.write": frozenset({"lead", "team"}),
    "document.issue": frozenset({"lead", "team"}),
    "document.read": frozenset({"lead", "team", "legal", "executive"}),
    "line.draft": frozenset({"lead", "team"}),
    "line.approve": frozenset({"legal"}),
    "rollup.read": frozenset({"lead", "team", "executive", "legal"}),
    "rollup.write": frozenset({"lead"}),
    # amounts, terms and agreements: the crisis lead and legal only; overriding the cap: the lead
    "settlement.read": frozenset({"lead", "legal"}),
    "settlement.write": frozenset({"lead", "legal"}),
    # the scheduled monitors' health and the intake complaints they set aside
    "monitor.read": frozenset({"lead", "team"}),
    "monitor.write": frozenset({"lead"}),
    # where alerts are sent (WeCom, DingTalk, Feishu, e-mail, webhooks) and the delivery log
    "channel.manage": frozenset({"lead"}),
    # going live (console/org.py, user_import.py, catalogue.py): the crisis lead sets the organisation up
    "org.read": frozenset({"lead", "team"}),
    "org.write": frozenset({"lead"}),
    "user.import": frozenset({"lead"}),
    "catalogue.write": frozenset({"lead"}),
    "account": ALL,
    # who has access, and ending it (deactivate, reset a password, revoke tokens): the crisis lead
    "user.admin": frozenset({"lead"}),
    # drills: start one, follow its progress, read the reports (console/drills.py)
    "drill.run": frozenset({"lead"}),
}


@dataclass(frozen=True)
class Viewer:
    """The person a request acts for, with what their scope is."""

    id: Optional[int]
    username: str
    role: str
    scope_kind: Optional[str] = None  # 'province' or 'branch' for role 'branch'
    scope_code: Optional[str] = None

    def may(self, permission):
        return self.role in PERMISSIONS[permission]

    @property
    def scoped(self):
        return self.scope_kind is not None


SYSTEM = Viewer(id=None, username="system", role="lead")


def scope_sql(viewer, alias="complainant"):
    """A WHERE fragment and its parameters limiting complainants to the viewer's scope."""
    if viewer.scope_kind == "province":
        return f"{alias}.province_code = ?", [viewer.scope_code]
    if viewer.scope_kind == "branch":
        return f"{alias}.branch_code = ?", [viewer.scope_code]
    return "1 = 1", []


def in_scope(viewer, province_code, branch_code):
    """Whether a record in this place is inside the viewer's scope."""
    if viewer.scope_kind == "province":
        return province_code == viewer.scope_code
    if viewer.scope_kind == "branch":
        return branch_code == viewer.scope_code
    return True


def resolve_scope(db, code):
    """('province'|'branch', code) for a scope code, or ValueError if it names nothing."""
    if db["province"].count_where("code = ?", [code]):
        return "province", code
    if db["branch"].count_where("code = ?", [code]):
        return "branch", code
    raise ValueError(f"{code!r} is neither a province code (GB/T 2260, e.g. 130000) nor a known branch code")
