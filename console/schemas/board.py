"""The live board, its events and the monitors' health."""

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from ..figures import FIGURES
from ..playbooks import Role
from .complainants import CountRow
from .types import AlertLevel, ComplainantStatus, IncidentStatus, Severity, TaskStatus
from .updates import HourlyUpdate


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    since: Annotated[int, Field(ge=0, le=2**63 - 1, description="The last sequence number the client has applied.")] = 0


# --- the live board (console/board.py, events.py) ----------------------------------


class EventCount(BaseModel):
    """One change to the group x province x status counts."""

    group_id: Optional[int]
    province_code: str
    status: str
    delta: int


class Event(BaseModel):
    """A live event as written to its room. What follows ``counts`` depends on
    the event (see console/events.py EVENTS): e.g. ``complainant`` (full rooms
    in its scope, never executives), ``province_codes`` (the executives' room),
    ``update``, ``alert``, ``tasks``, ``rollup``, ``referral``, ``stage``."""

    model_config = ConfigDict(extra="allow")

    name: str
    incident_id: int
    room: str
    seq: int
    at: str
    counts: list[EventCount]


class EventEarlier(BaseModel):
    """A live event written before events named their room."""

    model_config = ConfigDict(extra="allow")

    name: str
    incident_id: int
    seq: int
    at: str
    counts: list[EventCount]


AnyEvent = Annotated[Union[Event, EventEarlier], Field(union_mode="left_to_right")]


class Events(BaseModel):
    room: str
    seq: int
    events: list[AnyEvent]


class BoardIncident(BaseModel):
    id: int
    title: str
    cause: str
    product: str
    severity: Severity
    status: IncidentStatus
    opened_at: str


class BoardGroup(BaseModel):
    id: int
    name: str


class BoardBranch(BaseModel):
    branch_code: str
    province_code: str
    name: str
    due_at: Optional[str] = Field(description="When its next update is due (null: it need not report now).")
    missed: int = Field(description="Updates missed: 0, 1 or 2 (two or more).")
    update: Optional[HourlyUpdate]


class BoardAlert(BaseModel):
    id: int
    kind: str
    level: AlertLevel
    message: str
    province_code: Optional[str]
    branch_code: Optional[str]
    raised_at: str
    acknowledged_at: Optional[str]


class BoardTask(BaseModel):
    id: int
    key: str
    stream: str
    title: str
    owner_role: Role
    due_at: str
    status: TaskStatus
    completed_at: Optional[str]


class TierWindow(BaseModel):
    id: int
    name: str
    starts_on: str
    ends_on: str
    accepted: int


class CurrentTier(BaseModel):
    id: int
    name: str
    days_left: int


class TierPanel(BaseModel):
    """A group's early-acceptance tiers: counts and days, never an amount."""

    group_id: int
    name: str
    tiers: list[TierWindow]
    current: Optional[CurrentTier]


class OverdueItem(BaseModel):
    id: int
    name: str
    province_code: str
    branch_code: Optional[str]
    status: ComplainantStatus
    due_at: str


class OverdueList(BaseModel):
    count: int
    items: list[OverdueItem] = Field(description="At most 20, earliest due first.")


class OverdueCount(BaseModel):
    """Executives get the count only."""

    count: int


class BoardFigures(BaseModel):
    """The board's headline figures as console/figures.py defines them (in the viewer's scope)."""

    complainants: int = Field(description=FIGURES["complainants"].definition_msgid)
    new_last_hour: int = Field(description=FIGURES["new_last_hour"].definition_msgid)
    settled_now: int = Field(description=FIGURES["settled_now"].definition_msgid)
    settled_to_date: int = Field(description=FIGURES["settled_to_date"].definition_msgid)
    escalated_now: int = Field(description=FIGURES["escalated_now"].definition_msgid)
    on_site_now: int = Field(description=FIGURES["on_site_now"].definition_msgid)


class Board(BaseModel):
    """Executives get aggregates only: no overdue items, no complainant in the feed."""

    incident: BoardIncident
    room: str
    seq: int
    aggregate_only: bool
    generated_at: str
    last_change_at: Optional[str]
    counts: list[CountRow]
    groups: list[BoardGroup]
    new_last_hour: int
    on_site: int
    figures: BoardFigures
    mass_incident_at: Optional[str]
    branches: list[BoardBranch]
    alerts: list[BoardAlert]
    tasks: list[BoardTask]
    tiers: list[TierPanel]
    overdue_contact: Annotated[Union[OverdueList, OverdueCount], Field(union_mode="left_to_right")]
    overdue_decision: Annotated[Union[OverdueList, OverdueCount], Field(union_mode="left_to_right")]
    overdue_first_response: Annotated[Union[OverdueList, OverdueCount], Field(union_mode="left_to_right")] = Field(
        description="No first response within the complaint's severity tier (seed 004)."
    )
    overdue_supervisor: Annotated[Union[OverdueList, OverdueCount], Field(union_mode="left_to_right")] = Field(
        description="Severe complaints whose supervisor was not told in time."
    )
    feed: list[AnyEvent]


class MonitorFailure(BaseModel):
    subject: str
    error: str
    at: str


class MonitorState(BaseModel):
    id: str
    name: str
    description: str
    every_seconds: int
    state: Literal["ok", "failed", "running", "never"]
    last_period: Optional[str]
    last_started_at: Optional[str]
    last_finished_at: Optional[str]
    last_error: Optional[str]
    last_success_at: Optional[str]
    failed_runs_24h: int
    failures_24h: list[MonitorFailure]


class QuarantinedComplaint(BaseModel):
    id: int
    source: str
    external_id: Optional[str]
    channel: str
    product: str
    cause_code: str
    province_code: str
    city_code: Optional[str]
    branch_code: Optional[str]
    received_at: str
    quarantined_at: str
    quarantine_reason: str


class MonitorHealth(BaseModel):
    monitors: list[MonitorState]
    quarantined: list[QuarantinedComplaint]
    as_of: str
