"""Masking of personal data for display (PIPL; DOMAIN.md "Personal data").

ID ``110***********1234`` (first 3, last 4), phone ``138****1234``
(first 3, last 4), bank card first 6 and last 4. Shown masked by default;
revealing the full value is a logged action.
"""

import re as _re


def _mask(value, head, tail):
    if not value:
        return value or ""
    value = str(value)
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id_number(value):
    return _mask(value, 3, 4)


def mask_phone(value):
    return _mask(value, 3, 4)


def mask_bank_card(value):
    return _mask(value, 6, 4)


def mask_complainant(row):
    """A copy of a complainant row with phone and ID number masked."""
    masked = dict(row)
    masked["phone"] = mask_phone(row.get("phone"))
    masked["id_number"] = mask_id_number(row.get("id_number"))
    return masked


# --- personal numbers inside free text ---------------------------------------------
#
# Update notes, task notes, needs: people type phone and ID numbers into them.
# Shown to a role that may not see personal data (executives), or to a branch
# contact for text from outside their scope, such numbers are masked on output
# with the masks above. One function for every place such text leaves the
# server: pages, JSON, live event payloads.

_NOT_DIGIT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_DIGIT_AFTER = r"(?![0-9A-Za-z])"
_SEP = r"[ \-]?"
# Resident ID: 17 digits and a check character (GB 11643), or the old 15 digits
_ID = r"[0-9]{17}[0-9Xx]|[0-9]{15}"
# Mainland mobile (1[3-9] and 9 more digits, optionally +86 and grouped 3-4-4)
_MOBILE = r"(?:\+?86" + _SEP + r")?1[3-9][0-9]" + _SEP + r"[0-9]{4}" + _SEP + r"[0-9]{4}"
# Landline with an area code starting 0: 010-88886666, 0311 8888 6666
_LANDLINE = r"0[0-9]{2,3}" + _SEP + r"[0-9]{7,8}"
PERSONAL_NUMBER = _re.compile(_NOT_DIGIT_BEFORE + r"(?:(?P<id>" + _ID + r")|(?P<mobile>" + _MOBILE + r")|(?P<landline>" + _LANDLINE + r"))" + _NOT_DIGIT_AFTER)


def _mask_match(match):
    compact = _re.sub(r"[ \-]", "", match.group(0))
    if match.group("id"):
        return mask_id_number(compact)
    if match.group("mobile"):
        compact = _re.sub(r"^\+?86(?=1)", "", compact) if len(compact) > 11 else compact
    return mask_phone(compact)


def holds_personal_numbers(text):
    """Whether free text holds something that reads as a phone or ID number."""
    return bool(text) and PERSONAL_NUMBER.search(str(text)) is not None


def mask_free_text(text):
    """Free text with every phone and ID number in it masked (``138****5678``)."""
    if not text:
        return text
    return PERSONAL_NUMBER.sub(_mask_match, str(text))


def sees_free_text_of(viewer, province_code=None, branch_code=None):
    """Whether ``viewer`` may read personal numbers in text written about this
    place (None, None: incident-wide text, such as a task's notes).

    Executives never; branch contacts only text from inside their scope; the
    roles that read complainants (lead, team, legal) always."""
    if not viewer.may("complainant.read"):
        return False
    if viewer.scoped:
        if province_code is None and branch_code is None:
            return False
        from .access import in_scope

        return in_scope(viewer, province_code, branch_code)
    return True


UPDATE_TEXT_FIELDS = ("actions_taken", "needs", "notes")
TASK_TEXT_FIELDS = ("notes",)
ROLLUP_TEXT_FIELDS = ("summary", "outlook", "needs")
REFERRAL_TEXT_FIELDS = ("recipient", "what_sent", "acknowledged_by_name")


def masked_fields(row, fields):
    """A copy of ``row`` with the free text ``fields`` masked."""
    out = dict(row)
    for field in fields:
        if out.get(field):
            out[field] = mask_free_text(out[field])
    return out


def update_for(viewer, update):
    """A branch update (as ``updates.public_update`` gives it) as ``viewer`` may read it."""
    if update is None or sees_free_text_of(viewer, update.get("province_code"), update.get("branch_code")):
        return update
    return masked_fields(update, UPDATE_TEXT_FIELDS)


def referral_for(viewer, referral):
    """A referral as ``viewer`` may read it: what was sent and to whom is incident-wide text."""
    if sees_free_text_of(viewer):
        return referral
    return masked_fields(referral, REFERRAL_TEXT_FIELDS)


def task_for(viewer, task):
    """A task as ``viewer`` may read it: its notes are incident-wide text."""
    if sees_free_text_of(viewer):
        return task
    return masked_fields(task, TASK_TEXT_FIELDS)


def without_complainant_ref(task):
    """A settlement task without the complainant id it was made for (its
    ``trigger_ref`` and the ``· #id`` its title ends with)."""
    ref = str(task.get("trigger_ref") or "")
    if task.get("trigger") != "settlement" or not ref:
        return task
    suffix, title = f" · #{ref}", task.get("title") or ""
    return {**task, "trigger_ref": "", "title": title[: -len(suffix)] if title.endswith(suffix) else title}


def event_for_room(payload, room_kind):
    """A live event's payload as the room ``room_kind`` ('all', 'exec',
    'province', 'branch') may receive it. Updates only reach the rooms of
    their own place (and the team and exec rooms), so an update's text is
    masked for the exec room; task notes for every room but the team's."""
    if room_kind == "all":
        return payload
    out = dict(payload)
    if room_kind == "exec" and isinstance(out.get("update"), dict):
        out["update"] = masked_fields(out["update"], UPDATE_TEXT_FIELDS)
    if isinstance(out.get("tasks"), list):
        # a settlement task names its complainant by id: the team room only (rooms cannot tell scope apart per task)
        out["tasks"] = [without_complainant_ref(masked_fields(t, TASK_TEXT_FIELDS)) if isinstance(t, dict) else t for t in out["tasks"]]
    if isinstance(out.get("referral"), dict):
        out["referral"] = masked_fields(out["referral"], REFERRAL_TEXT_FIELDS)
    if isinstance(out.get("rollup"), dict):
        out["rollup"] = masked_fields(out["rollup"], ROLLUP_TEXT_FIELDS)
    return out


def feed_item_for(viewer, payload):
    """A stored live event as ``viewer``'s board feed shows it (events stored
    before masking existed included): the viewer's room's masking applied."""
    if sees_free_text_of(viewer):
        return payload
    return event_for_room(payload, "exec" if viewer.role == "executive" else "branch")


def room_kind(room):
    """'all', 'exec', 'province' or 'branch' for a room name (see console.events)."""
    parts = room.split(":")
    if len(parts) >= 3 and parts[0] == "incident":
        return {"team": "all", "exec": "exec"}.get(parts[2], parts[2])
    return "exec" if room == "console:exec" else "all"


def composer_warnings(data, fields):
    """The free-text fields of what someone is writing that hold a phone or
    ID number: the composer is told that roles without access see them masked."""
    return [f for f in fields if holds_personal_numbers(data.get(f) if isinstance(data, dict) else getattr(data, f, None))]
