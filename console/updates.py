"""Branches' hourly updates, and the rules that read them: group visit,
major complaint in person (Art. 29), and the crowd rule that turns an
incident into a mass incident (群体性事件)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from . import alerts, audit, events, idempotency, masking
from .access import in_scope
from .clock import from_iso, to_iso
from .db import write
from .errors import Invalid, NotFound
from .figures import OPEN_INCIDENT_STATUSES, open_complainant_sql
from .incidents import get_incident
from .org import managers_for, refuse_inactive

UPDATE_FIELDS = (
    "people_on_site",
    "new_complainants",
    "settled_since",
    "mood",
    "banners",
    "media_present",
    "police_present",
    "outlet_closed",
    "closed_since",
    "actions_taken",
    "needs",
    "notes",
)


def _branch_for(db, viewer, branch_code):
    """The branch an update is for: a branch-scoped contact's own; otherwise the one named, in scope."""
    if viewer.scope_kind == "branch":
        if branch_code not in (None, viewer.scope_code):
            raise Invalid(_("You post updates for your own branch only."), details=[{"field": "branch_code", "message": "outside your scope"}])
        branch_code = viewer.scope_code
    if not branch_code:
        raise Invalid(_("Say which branch this update is for."), details=[{"field": "branch_code", "message": "is required"}])
    rows = list(db.query("SELECT * FROM branch WHERE code = ?", [branch_code]))
    if not rows:
        raise Invalid(_("Unknown branch %(code)s.", code=branch_code), details=[{"field": "branch_code", "message": "is not a known branch code"}])
    branch = dict(rows[0])
    refuse_inactive(db, branch["code"])
    if not in_scope(viewer, branch["province_code"], branch["code"]):
        raise Invalid(_("That branch is outside your region."), details=[{"field": "branch_code", "message": "is outside your region"}])
    return branch


def post_update(db, incident_id, data, caller, settings, outbox=None):
    """Store a branch's update (schemas.HourlyUpdateIn), tell the boards, apply the crowd rules.

    Returns the stored update.
    """
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    if data.outlet_closed and data.closed_since is None:
        raise Invalid(
            _("Say since when the outlet is closed or blocked."), details=[{"field": "closed_since", "message": "is required when the outlet is closed"}]
        )
    with write(db):
        incident = get_incident(db, incident_id)
        if incident["status"] not in OPEN_INCIDENT_STATUSES:  # updates are taken while the incident is open
            raise Invalid(_("Updates are taken for open incidents only; this one is '%(status)s'.", status=incident["status"]))
        branch = _branch_for(db, viewer, data.branch_code)
        row = {
            "incident_id": incident_id,
            "branch_code": branch["code"],
            "province_code": branch["province_code"],
            "user_id": actor.user_id,
            "posted_at": to_iso(now),
            **{f: getattr(data, f) for f in UPDATE_FIELDS},
        }
        row["closed_since"] = to_iso(data.closed_since) if data.outlet_closed else None
        for flag in ("banners", "media_present", "police_present", "outlet_closed"):
            row[flag] = int(bool(row[flag]))
        update_id = db["hourly_update"].insert(row).last_pk
        audit.record(db, actor, "hourly_update", update_id, "create", after=row, at=now)
        stored = {**row, "id": update_id}
        if outbox is not None:
            rooms = [
                events.team_room(incident_id),
                events.exec_room(incident_id),
                events.province_room(incident_id, branch["province_code"]),
                events.branch_room(incident_id, branch["code"]),
            ]
            outbox.record_to(incident_id, "update_posted", now, rooms, {"update": public_update(stored, branch["name"])})
        check_crowd(db, incident_id, now, settings, outbox, actor)
    return stored


def post_update_once(db, incident_id, data, caller, settings, outbox=None, *, key, route, body):
    """Post an hourly update at most once per Idempotency-Key (``key`` None: no key, always posts).

    ``route`` and ``body`` (bytes) are what a retry must repeat; the same key
    with another body is refused. Returns (the public update, replayed)."""

    def action():
        return 201, public_update(post_update(db, incident_id, data, caller, settings, outbox))

    _status, response, replayed = idempotency.run_once(db, caller.actor.user_id, key, route, body, action, caller.now)
    return response, replayed


def public_update(row, branch_name=None):
    """An update as boards show it: no personal data in it."""
    out = {k: row[k] for k in ("id", "branch_code", "province_code", "posted_at", *UPDATE_FIELDS)}
    for flag in ("banners", "media_present", "police_present", "outlet_closed"):
        out[flag] = bool(out[flag])
    if branch_name is not None:
        out["branch_name"] = branch_name
    return out


def latest_by_branch(db, incident_id, viewer=None):
    """Each branch's most recent update in an incident (inside the viewer's scope)."""
    rows = [
        dict(r)
        for r in db.query(
            "SELECT hourly_update.*, branch.name AS branch_name FROM hourly_update JOIN branch ON branch.code = hourly_update.branch_code "
            "WHERE hourly_update.id IN (SELECT max(id) FROM hourly_update WHERE incident_id = ? GROUP BY branch_code)",
            [incident_id],
        )
    ]
    if viewer is not None:
        rows = [r for r in rows if in_scope(viewer, r["province_code"], r["branch_code"])]
    return rows


def timeline(db, incident_id, branch_code, viewer):
    """A branch's updates in an incident, newest first (NotFound outside the viewer's scope)."""
    branch = list(db.query("SELECT * FROM branch WHERE code = ?", [branch_code]))
    if not branch or not in_scope(viewer, branch[0]["province_code"], branch_code):
        raise NotFound(_("No branch %(code)s.", code=branch_code))
    get_incident(db, incident_id)
    rows = db.query("SELECT * FROM hourly_update WHERE incident_id = ? AND branch_code = ? ORDER BY posted_at DESC, id DESC", [incident_id, branch_code])
    # free text as the viewer may read it: an executive sees phone and ID numbers masked
    return dict(branch[0]), [masking.update_for(viewer, public_update(dict(r))) for r in rows]


def _local_day(now, settings):
    return now.astimezone(ZoneInfo(settings["TIMEZONE"])).date().isoformat()


def check_crowd(db, incident_id, now, settings, outbox=None, actor=None):
    """Apply the crowd rules to each branch's latest update; returns the alerts raised.

    - GROUP_VISIT_PEOPLE or more on site: a group visit (seed 003), once a day per branch;
    - MAJOR_COMPLAINANTS_IN_PERSON or more: a major complaint (Art. 29), once a day per branch;
    - CROWD_PEOPLE or more, banners, police present, one outlet closed
      OUTLET_CLOSED_HOURS_ONE hours or two outlets OUTLET_CLOSED_HOURS_TWO hours:
      the incident becomes a mass incident, once.
    Decided from stored updates and ``now``, so the monitor and each new
    update reach the same answer.
    """
    incident = get_incident(db, incident_id)
    raised = []
    reasons = []
    closed_long = []
    crowd_managers = []
    for update in latest_by_branch(db, incident_id):
        people = update["people_on_site"]
        day = _local_day(from_iso(update["posted_at"]), settings)  # the update's day: re-reading it later raises nothing new
        place = dict(incident_id=incident_id, province_code=update["province_code"], branch_code=update["branch_code"])
        name = update["branch_name"]
        managers = managers_for(db, update["branch_code"])  # told of a crowd at their outlet
        if people >= settings["MAJOR_COMPLAINANTS_IN_PERSON"]:
            raised.append(
                alerts.raise_alert(
                    db,
                    key=f"major_in_person:{incident_id}:{update['branch_code']}:{day}",
                    kind="major_in_person",
                    level="critical",
                    message=_(
                        "%(n)s complainants in person at %(branch)s: a major consumer complaint (Art. 29); start the emergency plan.", n=people, branch=name
                    ),
                    now=now,
                    audience={"lead", "team", "executive", *alerts.manager_audience(managers)},
                    data={"people_on_site": people, "managers": managers},
                    outbox=outbox,
                    settings=settings,
                    **place,
                )
            )
        elif people >= settings["GROUP_VISIT_PEOPLE"]:
            raised.append(
                alerts.raise_alert(
                    db,
                    key=f"group_visit:{incident_id}:{update['branch_code']}:{day}",
                    kind="group_visit",
                    level="warning",
                    message=_("Group visit at %(branch)s: %(n)s people together. Call the complaint staff and open a reception room.", n=people, branch=name),
                    now=now,
                    audience={"lead", "team", *alerts.manager_audience(managers)},
                    data={"people_on_site": people, "managers": managers},
                    outbox=outbox,
                    settings=settings,
                    **place,
                )
            )
        if people >= settings["CROWD_PEOPLE"] or update["banners"] or update["police_present"] or update["outlet_closed"]:
            crowd_managers += [m for m in managers if m not in crowd_managers]
        if people >= settings["CROWD_PEOPLE"]:
            reasons.append(_("%(n)s people at %(branch)s", n=people, branch=name))
        if update["banners"]:
            reasons.append(_("banners at %(branch)s", branch=name))
        if update["police_present"]:
            reasons.append(_("police at %(branch)s", branch=name))
        if update["outlet_closed"] and update["closed_since"]:
            hours = (now - from_iso(update["closed_since"])) / timedelta(hours=1)
            if hours >= settings["OUTLET_CLOSED_HOURS_ONE"]:
                reasons.append(_("%(branch)s closed for %(h).1f hours", branch=name, h=hours))
            elif hours >= settings["OUTLET_CLOSED_HOURS_TWO"]:
                closed_long.append(name)
    if len(closed_long) >= 2:
        reasons.append(
            _(
                "%(n)s outlets closed for %(h)s hours or more: %(names)s",
                n=len(closed_long),
                h=settings["OUTLET_CLOSED_HOURS_TWO"],
                names=", ".join(closed_long),
            )
        )
    if reasons and incident["mass_incident_at"] is None:
        db["incident"].update(incident_id, {"mass_incident_at": to_iso(now), "updated_at": to_iso(now)})
        audit.record(
            db,
            actor or _system(),
            "incident",
            incident_id,
            "mass_incident",
            before={"mass_incident_at": None},
            after={"mass_incident_at": to_iso(now), "reasons": reasons},
            at=now,
        )
        raised.append(
            alerts.raise_alert(
                db,
                key=f"mass_incident:{incident_id}",
                kind="mass_incident",
                level="critical",
                message=_("Mass incident (群体性事件): %(reasons)s. Notify the police and make the regulator's emergency report.", reasons="; ".join(reasons)),
                now=now,
                audience={"lead", "team", "executive", *alerts.manager_audience(crowd_managers)},
                incident_id=incident_id,
                data={"reasons": reasons, "managers": crowd_managers},
                outbox=outbox,
                settings=settings,
            )
        )
        if outbox is not None:
            fields = ("id", "title", "cause", "product", "severity", "status", "opened_at", "closed_at")
            outbox.record_everywhere(incident_id, "incident_updated", now, {"incident": {**{k: incident[k] for k in fields}, "mass_incident_at": to_iso(now)}})
        from .tasks import sync_tasks

        sync_tasks(db, incident_id, now, settings, outbox, actor)  # police notification, emergency report
    return [a for a in raised if a is not None]


def _system():
    from .audit import Actor

    return Actor(user_id=None, username="crowd rule", route="rule crowd")


def reporting_status(db, incident, now, settings, viewer=None):
    """Every branch that must report for an active incident, with when it last did and
    whether it is late: a branch with open complainants reports every
    HOURLY_UPDATE_MINUTES; the clock restarts at each update (and at activation)."""
    interval = timedelta(minutes=settings["HOURLY_UPDATE_MINUTES"])
    grace = timedelta(minutes=settings["HOURLY_UPDATE_GRACE_MINUTES"])
    started = from_iso(incident.get("activated_at") or incident["opened_at"])
    is_open, open_args = open_complainant_sql("complainant.status")
    branches = db.query(
        "SELECT complainant.branch_code, branch.province_code, branch.name, count(*) AS open_complainants, "
        "min(complainant.created_at) AS first_complainant_at FROM complainant "
        "JOIN branch ON branch.code = complainant.branch_code "
        f"WHERE complainant.incident_id = ? AND {is_open} GROUP BY complainant.branch_code",
        [incident["id"], *open_args],
    )
    last = {
        r["branch_code"]: r["last"]
        for r in db.query("SELECT branch_code, max(posted_at) AS last FROM hourly_update WHERE incident_id = ? GROUP BY branch_code", [incident["id"]])
    }
    result = []
    for b in branches:
        if viewer is not None and not in_scope(viewer, b["province_code"], b["branch_code"]):
            continue
        # a branch must report from activation, or from its first complainant if that came later
        branch_start = max(started, from_iso(b["first_complainant_at"]))
        last_at = max(branch_start, from_iso(last[b["branch_code"]])) if b["branch_code"] in last else branch_start
        first_due = last_at + interval + grace
        missed = 0
        if now >= last_at + 2 * interval + grace:
            missed = 2
        elif now >= first_due:
            missed = 1
        result.append(
            {
                "branch_code": b["branch_code"],
                "province_code": b["province_code"],
                "name": b["name"],
                "open_complainants": b["open_complainants"],
                "last_update_at": to_iso(last_at) if b["branch_code"] in last else None,
                "clock_from": to_iso(last_at),
                "due_at": to_iso(first_due),
                "missed": missed,
            }
        )
    return result
