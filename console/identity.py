"""Who a complainant is, across every channel: the resident ID's check digit,
the phone number in one form, and both as keyed hashes for matching.

Matching never needs a clear number: an arrival's ID number and phone are
hashed with HMAC-SHA256 under a key derived from the instance secret
(SECRET_KEY), and looked up by that hash. The clear numbers stay in their
columns for the reveal (logged); the hash columns are indexed, the clear ones
are not searched.

Resident ID numbers (GB 11643-1999): 17 digits and a check character by
ISO 7064 MOD 11-2 (DOMAIN.md "Identity, channels and transfers"). A 15-digit
first-generation number has no check character; it is hashed as the 18-character
number it became (century 19 inserted, check computed), so both forms match.
"""

import hashlib
import hmac
import re

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


_DIGIT = {str(d): d for d in range(10)}


def id_check_character(first17):
    """The GB 11643 check character of the first 17 digits."""
    d = _DIGIT
    return ID_CHECK[
        (
            7 * d[first17[0]]
            + 9 * d[first17[1]]
            + 10 * d[first17[2]]
            + 5 * d[first17[3]]
            + 8 * d[first17[4]]
            + 4 * d[first17[5]]
            + 2 * d[first17[6]]
            + d[first17[7]]
            + 6 * d[first17[8]]
            + 3 * d[first17[9]]
            + 7 * d[first17[10]]
            + 9 * d[first17[11]]
            + 10 * d[first17[12]]
            + 5 * d[first17[13]]
            + 8 * d[first17[14]]
            + 4 * d[first17[15]]
            + 2 * d[first17[16]]
        )
        % 11
    ]


def normal_id_number(value):
    """The 18-character upper-case form of an ID number (a 15-digit one upgraded), or None."""
    if not value:
        return None
    text = value.strip().upper()
    if len(text) == 15 and text.isdigit():
        body = text[:6] + "19" + text[6:]
        return body + id_check_character(body)
    return text


def normal_phone(value):
    """A phone number as digits only: spaces and dashes gone, a +86 / 0086
    prefix stripped; an international number keeps its + and country code."""
    if not value:
        return None
    if value.isascii() and value.isdigit() and not value.startswith("0086"):
        return value  # already its normal form (a bulk import's numbers mostly are): no pattern run
    digits = re.sub(r"[^0-9+]", "", value)
    if digits.startswith("+86"):
        return digits[3:]
    if digits.startswith("0086"):
        return digits[4:]
    return digits


def matching_key(secret):
    """The key the numbers are hashed with: derived from the instance secret,
    so a leaked hash table cannot be checked against a list of numbers
    without it, and the session key itself is never used for two purposes."""
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, b"console complainant identity v1", hashlib.sha256).digest()


def key_fingerprint(key):
    """A short, non-secret name of a matching key: stored, so a changed SECRET_KEY is noticed."""
    return hashlib.sha256(b"fingerprint:" + key).hexdigest()[:16]


_PADS = {}


def _pads(key, kind):
    """SHA-256 states after HMAC's inner and outer pads (and the kind), computed once per key."""
    pads = _PADS.get((key, kind))
    if pads is None:
        block = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        inner.update(kind.encode() + b":")
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        pads = _PADS[(key, kind)] = (inner, outer)
    return pads


def number_hash(key, kind, normal):
    """The keyed hash of a normalised number (``kind``: 'phone' or 'id') as a
    63-bit integer: HMAC-SHA256(key, kind + ":" + number), first 8 bytes; None for none.

    An integer, not hex text: the index on it is a quarter of the size and
    matching a 10,000-row import reads it 20,000 times. 63 bits: the chance
    that two of a million numbers share a hash is about 1 in 20 million.
    The pads' states are kept (the same HMAC, without redoing them per number)."""
    if not normal:
        return None
    inner, outer = _pads(key, kind)
    i = inner.copy()
    i.update(normal.encode())
    o = outer.copy()
    o.update(i.digest())
    return int.from_bytes(o.digest()[:8], "big") >> 1


def phone_hash(key, phone):
    return number_hash(key, "phone", normal_phone(phone))


def id_hash(key, id_number):
    return number_hash(key, "id", normal_id_number(id_number))


def arrival_hashes(key, items):
    """([id_hash], [phone_hash]) of arrivals (objects with ``id_number`` and
    ``phone``), as ``id_hash`` and ``phone_hash`` give them one by one: two
    lists of integers, not a tuple per arrival (which the garbage collector
    would walk again and again during a 10,000-row import)."""
    ids = [number_hash(key, "id", normal_id_number(item.id_number)) for item in items]
    phones = [number_hash(key, "phone", normal_phone(item.phone)) for item in items]
    return ids, phones


def app_key():
    """The matching key of the running app (cached on it)."""
    from flask import current_app

    key = current_app.extensions.get("console_matching_key")
    if key is None:
        key = current_app.extensions["console_matching_key"] = matching_key(current_app.config["SECRET_KEY"])
    return key


def rehash_if_needed(db, key):
    """Fill missing hashes, and rehash everything when the key changed (a new
    SECRET_KEY): run once at start. Cheap when nothing is missing."""
    fingerprint = key_fingerprint(key)
    stored = db.execute("SELECT value FROM identity_meta WHERE name = 'key_fingerprint'").fetchone()
    if stored is not None and stored[0] == fingerprint:
        where = "WHERE phone_hash IS NULL OR (id_number IS NOT NULL AND id_hash IS NULL)"
    else:
        where = ""
    rows = db.execute(f"SELECT id, phone, id_number FROM complainant {where}").fetchall()
    if not rows and stored is not None and stored[0] == fingerprint:
        return 0
    with db.conn:
        db.conn.executemany(
            "UPDATE complainant SET phone_hash = ?, id_hash = ? WHERE id = ?",
            [(phone_hash(key, phone), id_hash(key, id_number), cid) for cid, phone, id_number in rows],
        )
        db.conn.execute(
            "INSERT INTO identity_meta (name, value) VALUES ('key_fingerprint', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [fingerprint],
        )
    return len(rows)


def remember_key(db, key):
    """Note which key made the hashes being written (on a database no app has started on yet)."""
    db.execute("INSERT INTO identity_meta (name, value) VALUES ('key_fingerprint', ?) ON CONFLICT (name) DO NOTHING", [key_fingerprint(key)])
