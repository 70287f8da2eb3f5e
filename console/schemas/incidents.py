"""Incidents and complainant groups: what the API takes and answers."""

from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, Field

from .types import Id, IncidentStatus, Reason, Severity, ShortText, Strict, Text, unique


class IncidentIn(Strict):
    title: ShortText
    cause: ShortText
    product: ShortText
    severity: Severity
    status: Literal["monitoring", "active"] = "active"
    playbook: Optional[Annotated[str, Field(max_length=100)]] = Field("mass_complaint", description="A playbook id from playbooks/ (null: none).")


class IncidentUpdate(Strict):
    # Fields the record cannot lack: may be left out, not sent as null.
    title: ShortText = None
    cause: ShortText = None
    product: ShortText = None
    severity: Severity = None
    playbook: Optional[Annotated[str, Field(max_length=100)]] = None


class IncidentStatusChange(Strict):
    status: IncidentStatus
    reason: Reason
    playbook_changes: Annotated[
        str, Field(max_length=5000, description="When standing down: what the playbook should change (goes into the post-incident review).")
    ] = ""


class GroupIn(Strict):
    name: ShortText
    handling_line: Text = ""
    representative_ids: Annotated[list[Id], AfterValidator(unique)] = []


class GroupUpdate(Strict):
    name: ShortText = None
    handling_line: Text = None
    representative_ids: Optional[Annotated[list[Id], AfterValidator(unique)]] = None


class Incident(BaseModel):
    id: int
    title: str
    cause: str
    product: str
    severity: Severity
    status: IncidentStatus
    playbook: Optional[str]
    opened_at: str
    closed_at: Optional[str]
    updated_at: str


class IncidentList(BaseModel):
    incidents: list[Incident]


class Group(BaseModel):
    id: int
    incident_id: int
    name: str
    handling_line: str
    representative_ids: list[int]


class GroupList(BaseModel):
    groups: list[Group]
