"""Amounts claimed that arrive with an intake complaint: kept in fen with it,
and handed to the complainant a surge makes of it."""

from decimal import Decimal

from .complainants import MONEY_FIELDS, _whole_fen, to_fen


def amount_problems(item, prefix=""):
    """Problems with the amounts of a schemas.ComplaintIn (more than two decimals)."""
    return [
        {"field": prefix + field, "message": "has more than two decimals"}
        for field in MONEY_FIELDS
        if getattr(item, field) and not _whole_fen(getattr(item, field))
    ]


def amounts_in_fen(row):
    """The yuan fields of a dumped ComplaintIn, replaced by the table's fen columns."""
    return {**{field + "_fen": to_fen(row.pop(field, 0) or 0) for field in MONEY_FIELDS}}


def claimed_amounts(complaint):
    """ComplainantIn amounts (yuan) from a stored intake_complaint row."""
    return {field: float(Decimal(complaint.get(field + "_fen") or 0) / 100) for field in MONEY_FIELDS}
