"""The name search index (FTS5: each name's two-character pieces as words)
and the flag rows of new complainants.

Inserted complainants are indexed here in bulk, by id range, in the writer's
transaction: one statement per batch instead of a trigger per row (migrations
m018, m021 and m022 keep changes and deletions in step with triggers)."""

from .migrations import NAME_GRAMS


def index_new(db, first_id, last_id):
    """Index complainants ``first_id``..``last_id`` (just inserted) for name search and flag filters."""
    db.execute(
        f"INSERT INTO complainant_name_gram (rowid, grams) SELECT id, {NAME_GRAMS.format(name='c.name')} FROM complainant c WHERE id BETWEEN ? AND ?",
        [first_id, last_id],
    )
    db.execute(
        "INSERT OR IGNORE INTO complainant_flag SELECT c.incident_id, j.value, c.id FROM complainant c, json_each(c.flags) j "
        "WHERE c.id BETWEEN ? AND ? AND c.flags != '[]'",
        [first_id, last_id],
    )
