"""Keeping what was issued: files written once, read back with their checksum."""

import hashlib
import os
import threading
from pathlib import Path

from ..clock import to_iso
from ..db import write
from ..errors import ConsoleError, Invalid, NotFound
from ..incidents import get_incident

# --- keeping what was issued -------------------------------------------------------------------


class DocumentIntegrityError(ConsoleError):
    """A stored issued document no longer matches the hash it was issued with."""

    status = 500


def _safe_filename(filename):
    name = Path(str(filename or "")).name
    if not name or name != filename or name in (".", "..") or "\x00" in name:
        raise Invalid(f"Not a usable file name for an issued document: {filename!r} (a plain name, no folders).")
    return name


def _keep_file(folder, name, content):
    """Write ``content`` read-only to ``folder/<sha256>-<name>`` (or check the
    file already there); returns (stored name, sha256)."""
    if not isinstance(content, (bytes, bytearray)):
        raise TypeError("content must be bytes")
    content = bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{digest}-{name}"
    target = folder / stored_name
    if target.exists():
        # the same bytes issued before: the file is already there, if untouched
        found = hashlib.sha256(target.read_bytes()).hexdigest()
        if found != digest:
            raise DocumentIntegrityError(f"The stored file {target} should have sha256 {digest} but has {found}: it was changed after it was written.")
    else:
        temporary = folder / f".{stored_name}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(temporary, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    os.chmod(target, 0o444)
    return stored_name, digest


def store_issued(db, incident_id, kind, title, recipient, filename, content_type, content, issued_by, now, folder):
    """Keep an issued document: the bytes in ``folder/<sha256>-<filename>``
    (read-only), the record in issued_document (which cannot be changed or
    deleted). Returns the new row's id."""
    name = _safe_filename(filename)
    get_incident(db, incident_id)
    stored_name, digest = _keep_file(folder, name, content)
    row = {
        "incident_id": incident_id,
        "kind": kind,
        "title": title,
        "recipient": recipient,
        "issued_at": to_iso(now),
        "issued_by": issued_by,
        "filename": name,
        "content_type": content_type,
        "stored_path": stored_name,
        "size": len(content),
        "sha256": digest,
    }
    with write(db):
        return db["issued_document"].insert(row).last_pk


def store_rendering(db, document_id, audience, content, min_cell_people, folder):
    """Keep the rendering of issued document ``document_id`` that ``audience``
    ('aggregate': executives) downloads instead of the copy issued."""
    row = dict(db["issued_document"].get(document_id))
    stored_name, digest = _keep_file(folder, f"{audience}-{row['filename']}", content)
    with write(db):
        db["issued_document_rendering"].insert(
            {
                "document_id": document_id,
                "audience": audience,
                "min_cell_people": min_cell_people,
                "stored_path": stored_name,
                "size": len(content),
                "sha256": digest,
            }
        )


def read_issued(db, document_id, folder, audience=None):
    """(row, bytes) of an issued document, after checking the file still has the
    sha256 and size it was issued with (DocumentIntegrityError otherwise).
    With ``audience`` ('aggregate'), the rendering kept for that audience;
    NotFound when the document has none (issued before renderings were kept)."""
    rows = list(db.query("SELECT * FROM issued_document WHERE id = ?", [document_id]))
    if not rows:
        raise NotFound(f"No issued document {document_id}.")
    row = dict(rows[0])
    if audience is not None:
        kept = list(db.query("SELECT * FROM issued_document_rendering WHERE document_id = ? AND audience = ?", [document_id, audience]))
        if not kept:
            raise NotFound(
                f"Issued document {document_id} has no rendering with small figures suppressed (it was issued before those were kept): "
                "ask the crisis lead for a newly issued one. （该文件签发时尚未保存汇总版本，请联系危机负责人重新出具。）"
            )
        row = {**row, **{k: kept[0][k] for k in ("stored_path", "size", "sha256")}}
    path = Path(folder) / row["stored_path"]
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise DocumentIntegrityError(f"Issued document {document_id}: its file {path} is missing.") from None
    found = hashlib.sha256(content).hexdigest()
    if found != row["sha256"] or len(content) != row["size"]:
        raise DocumentIntegrityError(
            f"Issued document {document_id}: sha256 mismatch: the file {path} has sha256 {found} ({len(content)} bytes) "
            f"but was issued with sha256 {row['sha256']} ({row['size']} bytes); it was changed after it was issued."
        )
    return row, content
