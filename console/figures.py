"""The headline figures, each defined once: its key, its label, its one-line
definition and the query that counts it.

The board, the roll-ups and the documents all take their figures from here,
and show the definition where the figure is shown (a tooltip and a
definitions panel on the board and the wall, a note under the roll-up's
figures, a definitions section in the PDFs). Two figures that sound alike but
count different things have two names: "settled (now)" counts the
complainants whose status is settled now; "settled to date" counts everyone
who ever reached settled (since closed included).

Labels and definitions are English msgids translated through the catalogue;
``zh`` gives the Chinese outside a request (the documents are in Chinese).

The incident's states are grouped here too, once, with a name for each
grouping the code really uses (they are different things, not one "open").
"""

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext

from .clock import to_iso
from .status import OPEN
from .vocabulary import zh_catalogue


def N_(message):
    """Marks a msgid for extraction (Babel's default keyword); translated when shown."""
    return message


# --- incident states ------------------------------------------------------------------------------

# open: complaints still come in and are handled, hourly updates may be posted, timers and the
# crowd watch run, intake adds to it (monitoring before the crisis response starts, active during it)
OPEN_INCIDENT_STATUSES = ("monitoring", "active")
# responding: the crisis response is on: branches owe hourly updates, daily roll-ups are made,
# playbook tasks are watched, landing pages lead to it
RESPONDING_INCIDENT_STATUSES = ("active",)
# not closed: the incident's record may still change (playbook tasks added); stood down included
NOT_CLOSED_INCIDENT_STATUSES = ("monitoring", "active", "stood_down")
# ended: the response is over; a roll-up made now is the final one
ENDED_INCIDENT_STATUSES = ("stood_down", "closed")

# an open complaint: a complainant whose case is not settled, closed or withdrawn (console/status.py)
OPEN_COMPLAINANT_STATUSES = tuple(sorted(OPEN))


def incident_status_sql(statuses, column="status"):
    """``status IN ('monitoring', 'active')`` for one of the groupings above (constants, never input)."""
    return f"{column} IN ({', '.join(repr(s) for s in statuses)})"


def open_complainant_sql(column="status"):
    """A WHERE fragment and its parameters: the complainant's case is open."""
    return f"{column} IN ({','.join('?' * len(OPEN_COMPLAINANT_STATUSES))})", list(OPEN_COMPLAINANT_STATUSES)


# --- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str
    label_msgid: str
    definition_msgid: str

    @property
    def label(self):
        return gettext(self.label_msgid)

    @property
    def definition(self):
        return gettext(self.definition_msgid)

    @property
    def zh_label(self):
        return zh_catalogue().gettext(self.label_msgid)

    @property
    def zh_definition(self):
        return zh_catalogue().gettext(self.definition_msgid)


FIGURES = {
    f.key: f
    for f in (
        Figure(
            "complainants",
            N_("Complainants in all"),
            N_("Everyone recorded as a complainant of this incident, whatever their status now."),
        ),
        Figure(
            "new_last_hour",
            N_("New in the last hour"),
            N_("Complainants entered in the console in the hour before now (by when they were entered, not when they first complained)."),
        ),
        Figure(
            "new_in_period",
            N_("New in the period"),
            N_("Complainants entered in the console between the previous cut-off and this one."),
        ),
        Figure(
            "received_last_24h",
            N_("Received in the last 24 hours"),
            N_("Complainants whose complaint was received in the 24 hours before now (by when it was received, which may be before it was entered)."),
        ),
        Figure(
            "settled_now",
            N_("Settled (now)"),
            N_("Complainants whose status is settled now; those settled and since closed are not counted."),
        ),
        Figure(
            "settled_in_period",
            N_("Settled in the period"),
            N_("Complainants who reached settled between the previous cut-off and this one, whatever their status now."),
        ),
        Figure(
            "settled_to_date",
            N_("Settled to date"),
            N_("Complainants who reached settled at any time, whatever their status now (settled and since closed included)."),
        ),
        Figure(
            "escalated_now",
            N_("Escalated (now)"),
            N_("Complainants whose status is escalated now (to the regulator, the media, a court or a petition)."),
        ),
        Figure(
            "on_site_now",
            N_("People on site now"),
            N_("The people on site in each outlet's latest hourly update, added up (an outlet that has not reported counts nothing)."),
        ),
        Figure(
            "peak_on_site",
            N_("Most people at one outlet"),
            N_("The highest number of people on site reported in any one hourly update of any outlet since the incident began."),
        ),
    )
}

# what each place shows, in its order
BOARD = ("complainants", "new_last_hour", "settled_now", "escalated_now", "on_site_now")
ROLLUP = ("complainants", "new_in_period", "settled_in_period", "settled_to_date", "settled_now")
REGULATOR_REPORT = ("complainants", "settled_now", "settled_to_date", "on_site_now", "peak_on_site", "received_last_24h")


def definitions(keys):
    """The figures of ``keys`` as the page shows them: key, label and definition in the page's language."""
    return [{"key": k, "label": FIGURES[k].label, "definition": FIGURES[k].definition} for k in keys]


def by_zh_label(keys):
    """{Chinese label: definition in the page's language}: the roll-up's rows name their figures in Chinese."""
    return {FIGURES[k].zh_label: FIGURES[k].definition for k in keys}


def zh_definitions(keys):
    """The same in Chinese, for the documents: (label, definition) pairs."""
    return [(FIGURES[k].zh_label, FIGURES[k].zh_definition) for k in keys]


# --- how each is counted ------------------------------------------------------------------------
# ``where``/``params``: the viewer's scope over complainant rows (access.scope_sql), all of them by default.


def _count(db, incident_id, condition, args, where, params):
    return db.execute(f"SELECT count(*) FROM complainant WHERE incident_id = ? AND {condition} AND {where}", [incident_id, *args, *params]).fetchone()[0]


def complainants(db, incident_id, where="1 = 1", params=()):
    return _count(db, incident_id, "1 = 1", [], where, params)


def new_last_hour(db, incident_id, now, where="1 = 1", params=()):
    return _count(db, incident_id, "created_at >= ?", [to_iso(now - timedelta(hours=1))], where, params)


def new_in_period(db, incident_id, start, end, where="1 = 1", params=()):
    return _count(db, incident_id, "created_at > ? AND created_at <= ?", [to_iso(start), to_iso(end)], where, params)


def received_between(db, incident_id, start, end, where="1 = 1", params=()):
    """Complaints received from ``start`` (included) to ``end`` (excluded)."""
    return _count(db, incident_id, "received_at >= ? AND received_at < ?", [to_iso(start), to_iso(end)], where, params)


def received_last_24h(db, incident_id, now, where="1 = 1", params=()):
    return received_between(db, incident_id, now - timedelta(hours=24), now, where, params)


# the figures that count a current status, and the status each counts
CURRENT_STATUS = {"settled_now": "settled", "escalated_now": "escalated"}


def from_status_counts(rows):
    """complainants, settled_now and escalated_now from rows of (status, count), e.g. the board's counts."""
    rows = list(rows)
    out = {"complainants": sum(r["count"] for r in rows)}
    for key, status in CURRENT_STATUS.items():
        out[key] = sum(r["count"] for r in rows if r["status"] == status)
    return out


def settled_now(db, incident_id, where="1 = 1", params=()):
    return _count(db, incident_id, "status = ?", [CURRENT_STATUS["settled_now"]], where, params)


def settled_in_period(db, incident_id, start, end, where="1 = 1", params=()):
    return _count(db, incident_id, "settled_at > ? AND settled_at <= ?", [to_iso(start), to_iso(end)], where, params)


def settled_to_date(db, incident_id, where="1 = 1", params=()):
    return _count(db, incident_id, "settled_at IS NOT NULL", [], where, params)


def escalated_now(db, incident_id, where="1 = 1", params=()):
    return _count(db, incident_id, "status = ?", [CURRENT_STATUS["escalated_now"]], where, params)


def people_on_site(latest_updates):
    """on_site_now from each outlet's latest update (updates.latest_by_branch), already read."""
    return sum(u["people_on_site"] for u in latest_updates)


def on_site_now(db, incident_id, viewer=None):
    from .updates import latest_by_branch

    return people_on_site(latest_by_branch(db, incident_id, viewer))


def peak_on_site(db, incident_id):
    return db.execute("SELECT max(people_on_site) FROM hourly_update WHERE incident_id = ?", [incident_id]).fetchone()[0] or 0


def headline(db, incident_id, now, viewer=None):
    """Every headline figure that needs no period, as ``viewer`` may see them (all when None)."""
    from .access import scope_sql

    where, params = scope_sql(viewer) if viewer is not None else ("1 = 1", [])
    return {
        "complainants": complainants(db, incident_id, where, params),
        "new_last_hour": new_last_hour(db, incident_id, now, where, params),
        "received_last_24h": received_last_24h(db, incident_id, now, where, params),
        "settled_now": settled_now(db, incident_id, where, params),
        "settled_to_date": settled_to_date(db, incident_id, where, params),
        "escalated_now": escalated_now(db, incident_id, where, params),
        "on_site_now": on_site_now(db, incident_id, viewer),
    }
