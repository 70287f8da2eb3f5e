"""The name search index (FTS5, trigram) and the flag rows of new complainants.

Inserted complainants are indexed here in bulk, by id range, in the writer's
transaction: one statement per batch instead of a trigger per row (migration
m018 keeps changes and deletions in step with triggers)."""


def index_new(db, first_id, last_id):
    """Index complainants ``first_id``..``last_id`` (just inserted) for name search and flag filters."""
    db.execute("INSERT INTO complainant_name (rowid, name) SELECT id, name FROM complainant WHERE id BETWEEN ? AND ?", [first_id, last_id])
    db.execute(
        "INSERT OR IGNORE INTO complainant_flag SELECT c.incident_id, j.value, c.id FROM complainant c, json_each(c.flags) j "
        "WHERE c.id BETWEEN ? AND ? AND c.flags != '[]'",
        [first_id, last_id],
    )
