"""Where a person lands after logging in."""

from .access import scope_sql
from .figures import RESPONDING_INCIDENT_STATUSES, incident_status_sql


def active_incident_for(db, viewer):
    """The id of the active incident a branch contact works on (complainants in
    their scope; the most recently opened if several), or None."""
    if not viewer.scoped:
        return None
    where, params = scope_sql(viewer)
    rows = list(
        db.query(
            f"SELECT incident.id FROM incident WHERE {incident_status_sql(RESPONDING_INCIDENT_STATUSES, 'incident.status')} AND EXISTS ("
            f"SELECT 1 FROM complainant WHERE complainant.incident_id = incident.id AND {where}) "
            "ORDER BY incident.opened_at DESC, incident.id DESC LIMIT 1",
            params,
        )
    )
    return rows[0]["id"] if rows else None
