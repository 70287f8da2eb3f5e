"""Daily roll-ups: their numbers (kept as JSON with sorted keys) and text."""

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, Field

from .. import vocabulary as v
from .forecast import DemandShares, ForecastHorizon
from .types import Reason, Strict, literal


class RollupText(Strict):
    """The crisis lead's words in a draft roll-up."""

    summary: Annotated[str, Field(max_length=5000)] = ""
    outlook: Annotated[str, Field(max_length=5000, description="Outlook for the next 12/24/48/72 h (ICS-209).")] = ""
    needs: Annotated[str, Field(max_length=5000, description="Critical needs.")] = ""


class RollupCorrection(Strict):
    reason: Reason


# --- roll-ups (console/rollups.py) ---------------------------------------------
# The numbers are kept as JSON with sorted keys, so the fields of the content's
# models are in alphabetical order: the API returns them in that order.


class RollupIncident(BaseModel):
    activated_at: Optional[str]
    cause: str
    id: int
    mass_incident_at: Optional[str]
    opened_at: str
    product: str
    severity: str
    status: str
    title: str


class RollupGroupCount(BaseModel):
    count: int
    group_id: Optional[int] = Field(description="Null: the complainants in no group.")
    name: Optional[str]


class RollupRegionCount(BaseModel):
    count: int
    name: str
    province_code: str


class RollupTotals(BaseModel):
    by_group: list[RollupGroupCount]
    by_region: list[RollupRegionCount]
    by_status: dict[str, int]
    complainants: int


class RollupSettled(BaseModel):
    in_period: int
    to_date: int


class RollupEscalations(BaseModel):
    court: int
    media: int
    petition: int
    regulator: int


SUPPRESSED_BELOW_HELP = (
    "Set (to MIN_CELL_PEOPLE) when content.amounts are withheld from this reader: they would sum fewer people than that "
    "(small-cell suppression for executives). The amounts are then null; counts of people stay exact."
)


class RollupAmounts(BaseModel):
    """Sums of what complainants claim, in fen (no settlement amount). Null for
    an executive when they would sum fewer than MIN_CELL_PEOPLE people."""

    claimed_fen: Optional[int]
    expenses_claimed_fen: Optional[int]
    interest_claimed_fen: Optional[int]
    principal_fen: Optional[int]


class RollupSettlements(BaseModel):
    """Counts only: settlement amounts are for the crisis lead and legal."""

    accepted: int
    final: int
    open_offers: int


class RollupMissedUpdates(BaseModel):
    alerts: int
    branch_code: str
    name: str


class RollupPeak(BaseModel):
    branch_code: str
    name: str
    peak_on_site: int
    updates: int


class RollupBranches(BaseModel):
    missed_updates: list[RollupMissedUpdates]
    peak_on_site: list[RollupPeak]


class RollupTaskStream(BaseModel):
    done_in_period: int
    due_open: int
    overdue: int
    stream: str


class RollupMediaItem(BaseModel):
    at: str
    kind: str
    outlet: str
    summary: str


class RollupDeadlines(BaseModel):
    decisions: int
    promised_contacts: int
    referral_acknowledgements: int
    tasks: int


class RollupGroupMedian(BaseModel):
    group_id: Optional[int]
    hours: Optional[float]
    n: int


class RollupRegionMedian(BaseModel):
    hours: Optional[float]
    n: int
    province_code: str


class RollupMedian(BaseModel):
    by_group: list[RollupGroupMedian]
    by_region: list[RollupRegionMedian]
    overall: Optional[float]


class RollupMedians(BaseModel):
    to_first_contact: RollupMedian
    to_settlement: RollupMedian


class RollupChanges(BaseModel):
    """Differences with the previous roll-up; by_group is keyed by group id as text ("None": no group)."""

    by_group: dict[str, int]
    by_region: dict[str, int]
    by_status: dict[str, int]
    complainants: int


class RollupContent(BaseModel):
    """The numbers as they were when the roll-up was made (snapshot version 1)."""

    forecast: Optional["RollupForecast"] = Field(None, description="Absent from roll-ups made before the early warning.")
    amounts: RollupAmounts
    as_of: str
    branches: RollupBranches
    changes: Optional[RollupChanges] = Field(description="Null for an incident's first roll-up.")
    deadlines_next_24h: RollupDeadlines
    escalations: RollupEscalations
    incident: RollupIncident
    media_items: list[RollupMediaItem]
    median_hours: RollupMedians
    new_in_period: int
    settled: RollupSettled
    settlements: RollupSettlements
    tasks_by_stream: list[RollupTaskStream]
    totals: RollupTotals
    version: int


class RollupSummary(BaseModel):
    """A roll-up's record without its numbers."""

    id: int
    incident_id: int
    number: int
    report_type: literal(v.ROLLUP_TYPES)
    period_start: str
    period_end: str
    generated_at: str
    late: int = Field(description="1: made after its cut-off (the server was down); 0: on time.")
    status: literal(v.ROLLUP_STATUSES)
    prepared_by: str = Field(description="'monitor' or a user name.")
    approved_by: Optional[int]
    approved_at: Optional[str]
    issued_by: Optional[int]
    issued_at: Optional[str]
    summary: str
    outlook: str
    needs: str
    corrects_id: Optional[int]
    next_rollup_at: str


class RollupList(BaseModel):
    rollups: list[RollupSummary]


class RollupAmountsEarlier(BaseModel):
    """Amounts as roll-ups made before settlement records kept them: with the
    complainants' offered and agreed totals (null: nothing offered or agreed)."""

    agreed_fen: Optional[int] = Field(description="Null also for a reader without settlement rights.")
    claimed_fen: Optional[int]
    expenses_claimed_fen: Optional[int]
    interest_claimed_fen: Optional[int]
    offered_fen: Optional[int] = Field(description="Null also for a reader without settlement rights.")
    principal_fen: Optional[int]


class RollupContentEarlier(BaseModel):
    """The numbers of a roll-up made before settlement records (also snapshot
    version 1): offered and agreed totals under amounts, no settlements counts.
    Kept as made, so still returned in this form."""

    amounts: RollupAmountsEarlier
    as_of: str
    branches: RollupBranches
    changes: Optional[RollupChanges]
    deadlines_next_24h: RollupDeadlines
    escalations: RollupEscalations
    incident: RollupIncident
    media_items: list[RollupMediaItem]
    median_hours: RollupMedians
    new_in_period: int
    settled: RollupSettled
    tasks_by_stream: list[RollupTaskStream]
    totals: RollupTotals
    version: int


class Rollup(RollupSummary):
    content: Union[RollupContent, RollupContentEarlier]
    amounts_suppressed_below: Optional[int] = Field(None, description=SUPPRESSED_BELOW_HELP)


class RollupForecast(BaseModel):
    """The early warning when the roll-up was made (console/forecast.py): counts only."""

    method: Literal["ets", "poisson"]
    last_24h: int
    horizons: list[ForecastHorizon]
    demands: DemandShares


RollupContent.model_rebuild()
Rollup.model_rebuild()
