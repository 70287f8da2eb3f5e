"""Checking an uploaded file before it is kept: not empty, not too large, and
its bytes really are one of the kinds the caller accepts.

The browser's Content-Type and the file name are the sender's word; the
first bytes of the file are not. A file is accepted only when its name's
extension and its content name the same kind, so a page saved as
``statement.pdf`` or a program renamed ``photo.png`` is refused (415) before
anything is written. Task attachments and settlement agreements both use
``check_upload``.
"""

import io
import os
import unicodedata
import zipfile

from flask import current_app, has_app_context
from flask_babel import gettext as _

from . import settings
from .errors import ConsoleError

# What a document upload accepts unless the caller says otherwise.
DOCUMENT_KINDS = ("pdf", "png", "jpeg", "docx", "txt")

# kind -> (extensions that name it, the content type it is served with)
KINDS = {
    "pdf": ((".pdf",), "application/pdf"),
    "png": ((".png",), "image/png"),
    "jpeg": ((".jpg", ".jpeg"), "image/jpeg"),
    "docx": ((".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ((".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "txt": ((".txt",), "text/plain; charset=utf-8"),
    "csv": ((".csv",), "text/csv; charset=utf-8"),
}


def _kind_name(kind):
    """The kind as a person reads it in a refusal."""
    names = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG", "docx": "Word (.docx)", "xlsx": "Excel (.xlsx)", "txt": _("text (.txt)"), "csv": "CSV"}
    return names[kind]


MAX_FILENAME_CHARS = 120


class EmptyUpload(ConsoleError):
    status = 400


class UploadTooLarge(ConsoleError):
    status = 413


class UnsupportedUpload(ConsoleError):
    status = 415


def max_upload_bytes():
    if has_app_context():
        return current_app.config["MAX_UPLOAD_BYTES"]
    return settings.DEFAULTS["MAX_UPLOAD_BYTES"]


def sniff(content):
    """The kind the bytes themselves show, or None: 'pdf', 'png', 'jpeg', 'docx', 'xlsx' or 'text'.

    'text' is UTF-8 (a byte-order mark allowed) without NUL or other control
    characters apart from tab, line and page breaks: both .txt and .csv.
    """
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"PK\x03\x04"):
        return _office_kind(content)
    return "text" if _is_text(content) else None


def _office_kind(content):
    """docx or xlsx by the parts the ZIP holds (only the directory is read, nothing unpacked)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def _is_text(content):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text)


def safe_filename(filename):
    """The file's own name without any folder, keeping letters (Chinese too), digits and ._-() only."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, ext = os.path.splitext(base)
    keep = lambda text: "".join(c for c in text if c.isalnum() or c in "._-（）()")  # noqa: E731
    stem, ext = keep(stem).strip("._") or "file", keep(ext).lower()
    return stem[: MAX_FILENAME_CHARS - len(ext)] + ext


def check_upload(filename: str, content: bytes, kinds: tuple[str, ...]) -> tuple[str, str]:
    """Refuse an upload that is empty (400), too large (413) or not one of ``kinds`` (415).

    Returns (a safe file name, its content type). The extension must be one of
    ``kinds`` and the content must be what the extension says.
    """
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown upload kinds {unknown}; use some of {sorted(KINDS)}")
    accepted = ", ".join(_kind_name(k) for k in kinds)
    if not content:
        raise EmptyUpload(_("The file is empty."))
    limit = max_upload_bytes()
    if len(content) > limit:
        raise UploadTooLarge(_("The file is too large: at most %(mb)s MB.", mb=round(limit / 1024 / 1024, 1)))
    name = safe_filename(filename or "")
    ext = os.path.splitext(name)[1]
    claimed = next((k for k in kinds if ext in KINDS[k][0]), None)
    if claimed is None:
        raise UnsupportedUpload(_("Files of this type are not accepted here. Accepted: %(kinds)s.", kinds=accepted))
    found = sniff(content)
    if found != claimed and not (found == "text" and claimed in ("txt", "csv")):
        raise UnsupportedUpload(_("The file's content is not what its name says (%(ext)s). Accepted: %(kinds)s.", ext=ext, kinds=accepted))
    return name, KINDS[claimed][1]
