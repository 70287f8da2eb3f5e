"""Small-cell suppression: figures that identify nobody.

An amount shown to someone who may not see individuals must sum at least
``MIN_CELL_PEOPLE`` people (default 3; DOMAIN.md "Statistical disclosure",
PIPL Art. 73): otherwise the amount is one or two people's money. A smaller
cell keeps its count of people (the board needs exact counts) and shows "—"
for its amounts, with a note saying why.

Who gets suppressed figures:
- executives: every amount of any kind (claims, principal, settlements);
- a role without settlement rights (crisis team, branch contacts): every
  settlement amount (offered, agreed, settled, award).

Within one table, a suppressed cell could be recovered by subtracting the
shown rows from the total: so further rows are hidden until the hidden ones
together sum ``MIN_CELL_PEOPLE`` people (secondary suppression).
"""

DASH = "—"
NOTE_ZH = "注：人数少于 {n} 人的行只显示人数，金额以“—”代替，以免从汇总金额识别到个人。"


def min_people(settings):
    return int(settings.get("MIN_CELL_PEOPLE", 3) or 0)


def amounts_suppressed_for(viewer):
    """Whether every amount this viewer reads is suppressed (executives)."""
    return viewer.role == "executive"


def settlement_amounts_suppressed_for(viewer):
    """Whether the settlement amounts this viewer reads are suppressed."""
    return amounts_suppressed_for(viewer) or not viewer.may("settlement.read")


def small(count, floor):
    """Whether a cell of ``count`` people is too small to show an amount for."""
    return floor > 0 and count < floor


def suppressed_rows(counts, floor):
    """Indexes of the rows of one table (``counts``: people per row, the total
    row excluded) whose amounts are hidden: the small ones, then (secondary
    suppression) the next smallest rows until the hidden rows together sum at
    least ``floor`` people, so the total minus the shown rows gives away no
    fewer people's money than any shown cell."""
    hidden = {i for i, n in enumerate(counts) if small(n, floor)}
    if not hidden:
        return hidden
    shown = sorted((i for i in range(len(counts)) if i not in hidden), key=lambda i: (counts[i], i))
    while shown and sum(counts[i] for i in hidden) < floor:
        hidden.add(shown.pop(0))
    return hidden
