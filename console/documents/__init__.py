"""Documents for outside parties, built from the live data, never typed by hand.

- ``regulator_report``: the written emergency report to the regulator, with
  every item the reporting rules ask for (shared DOMAIN.md, "Emergency and
  mass-incident reporting to the regulator");
- ``consumer_association_packet``: a ZIP for the consumer association (消协):
  ``packet.pdf`` (case summary, product facts, handling plan, timeline,
  contacts) and ``counts.csv`` (aggregates only);
- ``media_statement``: the holding statement, from the incident's latest agreed
  line approved by legal (统一口径), and nothing else;
- ``incident_review``: the post-incident review.

Each is a pure function of the database, the incident, ``now`` and the
settings (and the names the caller signs with): the same data gives the same
bytes. None carries a complainant's name, phone or ID number: complainants
appear only as counts and sums.

The documents are in Chinese because the regulator, the consumer association
and the press read Chinese, whatever the reader's interface language: their
labels are vocabulary.py's formal sets read from the zh_CN catalogue
(``words.zh_label``).

What was issued is kept as issued: ``store_issued`` writes the bytes once,
read-only, named by their SHA-256, and records them in ``issued_document``
(which the database refuses to change or delete); ``read_issued`` checks the
file still has that hash before handing it out.

A module per document (regulator, association, media, review), the PDF engine
(pdf), the words (words), the facts they read (facts) and the store of what was
issued (store); this package re-exports what the rest of the console uses, so
``documents.regulator_report(...)`` keeps working."""

from .association import COUNTS_CSV_HEADER, consumer_association_packet, counts_csv
from .facts import Facts, amount, cell_floor, handling_table, incident_tasks, incident_timeline, money_table, status_order, timeline_table
from .media import approved_line, media_statement
from .pdf import FONT_NAME, FONT_PACKAGE, FONT_PATHS, PageBreak, Section, Signature, Table, font_path, render_pdf
from .regulator import regulator_report
from .review import incident_review
from .store import DocumentIntegrityError, read_issued, store_issued, store_rendering
from .words import (
    COMPLAINANT_STATUS_ZH,
    DOCUMENT_KIND_ZH,
    INCIDENT_FIELD_ZH,
    INCIDENT_STATUS_ZH,
    MOOD_ZH,
    NO_BRANCH,
    NO_GROUP,
    NONE,
    PARTY_ZH,
    REVIEW_FIGURES,
    ROLE_ZH,
    SEVERITY_ZH,
    definitions,
    duration,
    figure,
    organisation_name,
    required,
    tz,
    when_local,
    zh_label,
)

__all__ = [
    "FONT_PACKAGE",
    "FONT_PATHS",
    "FONT_NAME",
    "font_path",
    "Table",
    "Signature",
    "PageBreak",
    "Section",
    "render_pdf",
    "SEVERITY_ZH",
    "INCIDENT_STATUS_ZH",
    "COMPLAINANT_STATUS_ZH",
    "MOOD_ZH",
    "ROLE_ZH",
    "PARTY_ZH",
    "DOCUMENT_KIND_ZH",
    "INCIDENT_FIELD_ZH",
    "NO_GROUP",
    "NO_BRANCH",
    "NONE",
    "zh_label",
    "tz",
    "when_local",
    "duration",
    "required",
    "figure",
    "definitions",
    "REVIEW_FIGURES",
    "organisation_name",
    "status_order",
    "Facts",
    "money_table",
    "amount",
    "cell_floor",
    "handling_table",
    "incident_tasks",
    "incident_timeline",
    "timeline_table",
    "regulator_report",
    "COUNTS_CSV_HEADER",
    "counts_csv",
    "consumer_association_packet",
    "approved_line",
    "media_statement",
    "incident_review",
    "DocumentIntegrityError",
    "store_issued",
    "store_rendering",
    "read_issued",
]
