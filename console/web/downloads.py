"""A file sent to the browser as a download."""

from flask import Response

MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def attachment(content, stem, kind):
    """``content`` (bytes) as ``<stem>.<kind>``, with the kind's content type."""
    return Response(content, mimetype=MIMETYPES[kind], headers={"Content-Disposition": f"attachment; filename={stem}.{kind}"})
