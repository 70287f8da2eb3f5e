"""Masking of personal data for display (PIPL; DOMAIN.md "Personal data").

ID ``110***********1234`` (first 3, last 4), phone ``138****1234``
(first 3, last 4), bank card first 6 and last 4. Shown masked by default;
revealing the full value is a logged action.
"""


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
