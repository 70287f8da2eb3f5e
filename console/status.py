"""Which status a complainant may move to next, and why not when they may not.

The main line is new -> contacted -> negotiating -> offer made -> accepted ->
settled -> closed. Side states: withdrawn, unreachable, escalated (with the
channel: regulator, media, court, petition). An offer can be turned down
(back to negotiating) and an acceptance withdrawn before signing (a customer
who goes back on their word, seed 000), so those two steps go back.
"""

from flask_babel import gettext as _

from .vocabulary import COMPLAINANT_STATUSES, ESCALATION_CHANNELS

ALLOWED = {
    "new": {"contacted", "unreachable", "withdrawn", "escalated"},
    "contacted": {"negotiating", "unreachable", "withdrawn", "escalated"},
    "negotiating": {"offer_made", "unreachable", "withdrawn", "escalated"},
    "offer_made": {"accepted", "negotiating", "withdrawn", "escalated"},
    "accepted": {"settled", "negotiating", "escalated"},
    "settled": {"closed"},
    "closed": set(),
    "withdrawn": {"contacted", "closed"},
    "unreachable": {"contacted", "withdrawn", "closed"},
    "escalated": {"contacted", "negotiating", "offer_made", "closed"},
}

OPEN = {"new", "contacted", "negotiating", "offer_made", "accepted", "unreachable", "escalated"}
FUNNEL = ["new", "contacted", "negotiating", "offer_made", "accepted", "settled", "closed"]


class TransitionRefused(ValueError):
    """A status change the rules do not allow; the message says why."""


def check_transition(current, new, channel=None):
    """Raise TransitionRefused unless ``current`` may move to ``new``.

    ``channel`` is required for, and only for, 'escalated'.
    """
    if new not in COMPLAINANT_STATUSES:
        raise TransitionRefused(_("Unknown status '%(status)s'.", status=new))
    if new == "escalated":
        if channel not in ESCALATION_CHANNELS:
            raise TransitionRefused(_("Escalated needs its channel: one of %(channels)s.", channels=", ".join(ESCALATION_CHANNELS)))
    elif channel is not None:
        raise TransitionRefused(_("An escalation channel is only given with status 'escalated'."))
    if new == current:
        if new == "escalated":
            return  # a change of channel is allowed
        raise TransitionRefused(_("The complainant is already '%(status)s'.", status=new))
    allowed = ALLOWED[current]
    if new not in allowed:
        if allowed:
            raise TransitionRefused(
                _(
                    "Cannot move from '%(current)s' to '%(new)s': the next status may only be %(allowed)s.",
                    current=current,
                    new=new,
                    allowed=", ".join(sorted(allowed)),
                )
            )
        raise TransitionRefused(_("Cannot move from '%(current)s' to '%(new)s': '%(current)s' is final.", current=current, new=new))
