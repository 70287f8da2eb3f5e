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

from .association import consumer_association_packet, counts_csv
from .facts import Facts, cell_floor, handling_table, incident_tasks
from .media import approved_line, media_statement
from .pdf import PageBreak, Section, Signature, Table, font_path, render_pdf
from .regulator import regulator_report
from .review import incident_review
from .store import DocumentIntegrityError, read_issued, store_issued, store_rendering
from .words import NONE, ROLE_ZH, SEVERITY_ZH, organisation_name, when_local, zh_label

__all__ = [
    # the PDF engine (issuing, roll-up and warning-plan PDFs)
    "font_path",
    "Table",
    "Signature",
    "PageBreak",
    "Section",
    "render_pdf",
    # the words and facts the warning plan shares with the documents
    "SEVERITY_ZH",
    "ROLE_ZH",
    "NONE",
    "zh_label",
    "when_local",
    "organisation_name",
    "Facts",
    "cell_floor",
    "handling_table",
    "incident_tasks",
    "approved_line",
    # the documents, and the store of what was issued
    "regulator_report",
    "counts_csv",
    "consumer_association_packet",
    "media_statement",
    "incident_review",
    "DocumentIntegrityError",
    "store_issued",
    "store_rendering",
    "read_issued",
]
