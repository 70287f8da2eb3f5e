"""3. The media statement, from the one agreed line."""

from ..errors import Invalid
from ..incidents import get_incident
from .pdf import Section, Signature, render_pdf
from .words import organisation_name

# --- 3. the media statement --------------------------------------------------------------------


def approved_line(db, incident_id):
    """The incident's latest agreed line approved by legal, or None."""
    rows = list(
        db.query(
            "SELECT * FROM agreed_line WHERE incident_id = ? AND approved_at IS NOT NULL ORDER BY approved_at DESC, id DESC LIMIT 1",
            [incident_id],
        )
    )
    return dict(rows[0]) if rows else None


def media_statement(db, incident_id, now, settings):
    """The holding statement: the latest approved agreed line, signed by the
    organisation, and nothing else: no figures, no dates, no personal data
    beyond what legal approved (the issue time is kept in issued_document)."""
    get_incident(db, incident_id)
    line = approved_line(db, incident_id)
    if line is None:
        raise Invalid(
            "There is no approved agreed line for this incident: legal must approve the line before a media statement is issued. "
            "（本事件尚无经法律合规部门审核通过的统一口径，不能出具媒体声明。）"
        )
    organisation = organisation_name(settings)
    paragraphs = [p.strip() for p in line["text"].splitlines() if p.strip()]
    return render_pdf("情况说明", [Section(None, [*paragraphs, Signature([organisation])])], now=now, author=organisation, footer=False)
