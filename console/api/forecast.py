"""The early warning over JSON: the forecast of an incident, and of a cause under monitoring."""

from flask import current_app
from flask_babel import gettext as _

from .. import forecast, schemas
from ..auth import current_viewer
from ..clock import utcnow
from ..db import get_db
from ..errors import NotFound
from ..incidents import get_incident
from . import operation


def _incident(incident_id, **_path):
    get_incident(get_db(), incident_id)


@operation(
    "/incidents/<int:incident_id>/forecast",
    "GET",
    "incident.read",
    "Expected new complainants in 24 h, 72 h and 7 days with an 80% interval, the expected exposure and the demand shares",
    response=schemas.Forecast,
    tag="board",
    visible=_incident,
)
def incident_forecast(incident_id):
    """A branch contact's forecast is over their own scope; executives see the
    exposure only when it rests on enough people (small cells)."""
    return forecast.for_viewer(get_db(), incident_id, current_viewer(), utcnow(), current_app.config)


@operation(
    "/forecast/cause",
    "GET",
    "monitor.read",
    "The forecast for one cause among the ordinary complaints under monitoring (?cause_code=)",
    query=schemas.CauseForecastQuery,
    response=schemas.Forecast,
    tag="monitors",
)
def cause_forecast(query):
    db = get_db()
    if not forecast.cause_received(db, query.cause_code):
        raise NotFound(_("No complaint of cause %(cause)s has been received.", cause=query.cause_code))
    return forecast.cause_forecast(db, query.cause_code, utcnow())
