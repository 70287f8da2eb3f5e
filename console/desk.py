"""The crisis lead's desk: the playbook's tasks arranged for reading, what is
overdue first, then what is due next; finished ones apart; the many
follow-ups made one per settlement in one group of their own."""

from .clock import to_iso

# a task made once per settlement (the follow-up call): dozens of them would bury the rest
GROUPED_TRIGGERS = ("settlement",)


def arrange_tasks(task_list, now, stream=None, status=None, owner=None):
    """The tasks (as tasks.list_tasks gives them), filtered and arranged.

    ``stream``: a stream key; ``status``: 'open' or 'done' (None: both);
    ``owner``: a role, or 'user:<id>' for one person. Returns a dict of
    lists: overdue and due_next (open, by due time), grouped (open tasks made
    per settlement, by key, each with its overdue count), done (newest first)
    and the count shown."""
    cutoff = to_iso(now)

    def wanted(t):
        if stream and t["stream"] != stream:
            return False
        if status and t["status"] != status:
            return False
        if owner:
            if owner.startswith("user:"):
                return str(t.get("owner_user_id") or "") == owner[5:]
            return t["owner_role"] == owner
        return True

    shown = [t for t in task_list if wanted(t)]
    open_tasks = sorted((t for t in shown if t["status"] == "open"), key=lambda t: (t["due_at"], t["id"]))
    done = sorted((t for t in shown if t["status"] == "done"), key=lambda t: (t["completed_at"] or "", t["id"]), reverse=True)
    grouped, single = {}, []
    for t in open_tasks:
        if t["trigger"] in GROUPED_TRIGGERS:
            grouped.setdefault(t["key"], []).append(t)
        else:
            single.append(t)
    groups = [
        {"key": key, "title": items[0]["title"].split(" · ")[0], "tasks": items, "overdue": sum(1 for t in items if t["due_at"] <= cutoff)}
        for key, items in grouped.items()
    ]
    return {
        "overdue": [t for t in single if t["due_at"] <= cutoff],
        "due_next": [t for t in single if t["due_at"] > cutoff],
        "grouped": groups,
        "done": done,
        "count": len(shown),
    }
