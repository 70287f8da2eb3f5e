"""Complainants, their deadline extensions and their contact log over JSON.

Phone and ID number are masked in every response; ``POST .../reveal`` returns
them in full and is logged.
"""

from flask import current_app
from flask_babel import gettext as _

from .. import complainants, contacts, incidents, schemas
from ..auth import current_actor, current_caller, current_viewer
from ..clock import utcnow
from ..db import get_db
from ..errors import Invalid
from ..live import publishing
from ..masking import mask_complainant
from . import OneOrMany, operation


def complainant_visible(complainant_id):
    complainants.get_complainant(get_db(), complainant_id, current_viewer())


def _incident(incident_id, **_path):
    incidents.get_incident(get_db(), incident_id)


@operation(
    "/incidents/<int:incident_id>/complainants",
    "GET",
    "complainant.read",
    "List complainants with filters and paging",
    query=schemas.ComplainantQuery,
    response=schemas.ComplainantPage,
    tag="complainants",
    visible=_incident,
)
def list_complainants(incident_id, query):
    rows, total = complainants.list_complainants(get_db(), incident_id, current_viewer(), query, utcnow(), current_actor())
    return {
        "complainants": [mask_complainant(r) for r in rows],
        "total": total,
        "page": query.page,
        "per_page": query.per_page,
        "next_cursor": complainants.next_cursor(rows, query),
    }


@operation(
    "/incidents/<int:incident_id>/complainants",
    "POST",
    "complainant.write",
    "Add one complainant (an object) or many (an array), all or none",
    body=OneOrMany(schemas.ComplainantIn),
    response=schemas.ComplainantsCreated,
    status=201,
    tag="complainants",
    visible=_incident,
)
def create_complainants(incident_id, body):
    """Send one JSON object to add one complainant, or a JSON array to add up to
    MAX_BULK in one transaction. One bad item refuses the whole call and every
    problem is listed in ``details`` with the item's index. An item whose ID or
    phone number matches a complainant of the incident becomes another
    complaint of that person (``linked``); ``ids`` has one id per item."""
    items = body if isinstance(body, list) else [body]
    limit = current_app.config["MAX_BULK"]
    if not items:
        raise Invalid(_("The list is empty: send at least one complainant."))
    if len(items) > limit:
        raise Invalid(_("At most %(limit)s complainants in one call; %(n)s were sent.", limit=limit, n=len(items)))
    db = get_db()
    with publishing(db) as outbox:
        made = complainants.create_arrivals(db, incident_id, items, current_caller(), current_app.config, outbox)
    return {**made, "count": len(made["ids"])}


@operation(
    "/complainants/<int:complainant_id>",
    "GET",
    "complainant.read",
    "Read a complainant",
    response=schemas.Complainant,
    tag="complainants",
    visible=complainant_visible,
)
def get_complainant(complainant_id):
    return mask_complainant(complainants.get_complainant(get_db(), complainant_id, current_viewer()))


@operation(
    "/complainants/<int:complainant_id>",
    "PATCH",
    "complainant.write",
    "Change a complainant; status changes follow the status rules",
    body=schemas.ComplainantUpdate,
    response=schemas.Complainant,
    tag="complainants",
    visible=complainant_visible,
)
def update_complainant(complainant_id, body):
    db = get_db()
    with publishing(db) as outbox:
        row = complainants.update_complainant(db, complainant_id, body, current_caller(), outbox, settings=current_app.config)
    return mask_complainant(row)


@operation(
    "/complainants/<int:complainant_id>/reveal",
    "POST",
    "complainant.reveal",
    "Show the full phone and ID number (logged)",
    response=schemas.Revealed,
    tag="complainants",
    visible=complainant_visible,
)
def reveal_complainant(complainant_id):
    return complainants.reveal(get_db(), complainant_id, current_caller())


@operation(
    "/complainants/<int:complainant_id>/extensions",
    "POST",
    "complainant.extend",
    "Extend the decision deadline (Art. 18)",
    body=schemas.ExtensionIn,
    response=schemas.Complainant,
    tag="complainants",
    visible=complainant_visible,
)
def extend_deadline(complainant_id, body):
    db = get_db()
    with publishing(db) as outbox:
        row = complainants.extend_deadline(db, complainant_id, body, current_caller(), current_app.config, outbox)
    return mask_complainant(row)


@operation(
    "/complainants/<int:complainant_id>/contacts",
    "GET",
    "complainant.read",
    "A complainant's contact log",
    response=schemas.ContactList,
    tag="contacts",
    visible=complainant_visible,
)
def list_contacts(complainant_id):
    return {"contacts": contacts.list_contacts(get_db(), complainant_id, current_viewer())}


@operation(
    "/complainants/<int:complainant_id>/contacts",
    "POST",
    "contact.write",
    "Log a contact with a complainant",
    body=schemas.ContactIn,
    response=schemas.Contact,
    status=201,
    tag="contacts",
    visible=complainant_visible,
)
def add_contact(complainant_id, body):
    db = get_db()
    with publishing(db) as outbox:
        contact_id = contacts.add_contact(db, complainant_id, body, current_caller(), outbox, settings=current_app.config)
    return dict(db["contact"].get(contact_id))
