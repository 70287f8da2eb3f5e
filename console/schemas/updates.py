"""Hourly updates and alerts."""

from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field

from .. import vocabulary as v
from .tasks import PERSONAL_DATA_FIELDS_HELP
from .types import AlertLevel, BranchCode, Id, Moment, Strict, literal


class AlertsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    incident_id: Optional[Id] = Field(None, description="Only this incident's alerts.")
    kind: Optional[Annotated[str, Field(max_length=50, pattern=r"^[a-z_]+$")]] = Field(None, description="Only alerts of this kind.")
    before_id: Optional[Id] = Field(None, description="Cursor: only alerts older than this id (the next_before_id of the previous page).")
    per_page: Annotated[int, Field(ge=1, le=500)] = 50


Mood = literal(v.MOODS)


class HourlyUpdateIn(Strict):
    """A branch's hourly report during an incident."""

    branch_code: Optional[BranchCode] = Field(None, description="Needed unless the poster is scoped to one branch.")
    people_on_site: Annotated[int, Field(ge=0, le=100000)]
    new_complainants: Annotated[int, Field(ge=0, le=100000)] = 0
    settled_since: Annotated[int, Field(ge=0, le=100000)] = 0
    mood: Mood
    banners: bool = False
    media_present: bool = False
    police_present: bool = False
    outlet_closed: bool = False
    closed_since: Optional[Moment] = None
    actions_taken: Annotated[str, Field(max_length=2000)] = ""
    needs: Annotated[str, Field(max_length=2000, description="What the branch needs from head office.")] = ""
    notes: Annotated[str, Field(max_length=5000)] = ""


# --- hourly updates and alerts (console/updates.py, alerts.py) ------------------


class HourlyUpdate(BaseModel):
    """A branch's update as boards show it: no personal data in it."""

    id: int
    branch_code: str
    province_code: str
    posted_at: str
    people_on_site: int
    new_complainants: int
    settled_since: int
    mood: Mood
    banners: bool
    media_present: bool
    police_present: bool
    outlet_closed: bool
    closed_since: Optional[str]
    actions_taken: str
    needs: str
    notes: str


class PostedUpdate(HourlyUpdate):
    replayed: bool = Field(description="True: a retry with an Idempotency-Key already used; nothing was stored.")
    personal_data_fields: list[str] = Field(default_factory=list, description=PERSONAL_DATA_FIELDS_HELP)


class BranchUpdate(HourlyUpdate):
    branch_name: str


class LatestUpdates(BaseModel):
    updates: list[BranchUpdate]


class Branch(BaseModel):
    code: str
    name: str
    city_code: str
    province_code: str


class BranchTimeline(BaseModel):
    branch: Branch
    updates: list[HourlyUpdate]


class Alert(BaseModel):
    """The alert record as stored; audience and data are JSON written as text."""

    id: int
    dedupe_key: str
    kind: str
    level: AlertLevel
    incident_id: Optional[int]
    province_code: Optional[str]
    branch_code: Optional[str]
    audience: str = Field(description='JSON list of roles and places as text, e.g. "[\\"lead\\", \\"team\\"]".')
    message: str
    data: str = Field(description="JSON object as text.")
    raised_at: str
    acknowledged_at: Optional[str]
    acknowledged_by: Optional[int]


class AlertList(BaseModel):
    alerts: list[Alert]
    next_before_id: Optional[int] = Field(None, description="Pass as before_id for the next (older) page; null on the last page.")
