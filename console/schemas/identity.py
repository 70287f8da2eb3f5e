"""Identity: complaints of one person, history, possible matches, merges (issue 17)."""

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, Field

from .types import (
    Amount,
    BranchCode,
    ComplainantStatus,
    ComplaintChannel,
    Id,
    IdNumber,
    Moment,
    Name,
    Phone,
    Reason,
    Reference,
    RegionCode,
    Severity,
    ShortText,
    Strict,
    Text,
)


class ComplaintIn(Strict):
    """An ordinary complaint from an existing complaint system."""

    source: Annotated[str, Field(max_length=50, description="The sending system, e.g. 'hotline-95511'.")] = ""
    external_id: Optional[Annotated[str, Field(min_length=1, max_length=100)]] = Field(None, description="Its id in the sending system; a resend is refused.")
    channel: Annotated[str, Field(min_length=1, max_length=50, description="hotline, counter, website, account manager, regulator transfer ...")]
    product: ShortText
    cause_code: Annotated[str, Field(min_length=1, max_length=100)]
    province_code: RegionCode
    city_code: Optional[RegionCode] = None
    branch_code: Optional[BranchCode] = None
    customer_name: Name
    customer_phone: Phone
    customer_id_number: Optional[IdNumber] = None
    text: Text = ""
    received_at: Optional[Moment] = None
    principal: Amount = Field(0, description="Amount claimed: principal (yuan); the complainant a surge makes starts with it.")
    interest_claimed: Amount = 0
    expenses_claimed: Amount = 0
    severity: Optional[Severity] = Field(None, description="light, medium or severe (seed 004); left out: the incident's severity when it is attached.")


# --- identity: complaints of one person, history, matches, merges (issue 17) ---


class ArrivalIn(Strict):
    """Another complaint of a known complainant (a repeat call, a transfer)."""

    channel: ComplaintChannel
    received_at: Optional[Moment] = None
    reference: Optional[Reference] = None
    asked: Text = ""
    transferring_body: Optional[Reference] = None
    transfer_reference: Optional[Reference] = None
    reply_due_at: Optional[Moment] = None
    severity: Optional[Severity] = None


class PersonComplaint(BaseModel):
    id: Optional[int] = Field(
        description="null for a person's first complaint when it is kept on the complainant itself (it had no channel, reference or transfer)."
    )
    complainant_id: int
    incident_id: int
    channel: Optional[ComplaintChannel] = Field(description="null for complaints recorded before channels were kept.")
    received_at: str
    reference: Optional[str]
    asked: str
    transferring_body: Optional[str]
    transfer_reference: Optional[str]
    reply_due_at: Optional[str]
    decision_due_at: str
    severity: Optional[Severity]
    created_at: str


class PersonComplaintList(BaseModel):
    complaints: list[PersonComplaint]


class HistoryEntry(BaseModel):
    kind: Literal["complaint", "contact", "promise", "offer"]
    at: str
    channel: Optional[str] = Field(description="complaint: how it arrived; contact and promise: how the person was contacted; offer: null.")
    summary: str
    detail: dict


class History(BaseModel):
    complainant_id: int
    entries: list[HistoryEntry] = Field(description="Newest first.")
    by_channel: dict[str, int] = Field(description="Complaints per channel ('unknown' for those recorded before channels were kept).")


class PossibleMatch(BaseModel):
    id: int
    name: str
    branch_code: Optional[str]
    status: ComplainantStatus
    received_at: str


class Matches(BaseModel):
    also_in_incidents: list[int] = Field(description="Other incidents with a complainant of the same ID or phone number (only those you may see).")
    possible: list[PossibleMatch] = Field(description="Same name at the same outlet in this incident: maybe the same person; never merged by themselves.")
    merges: list["Merge"] = Field(description="Merges into this complainant, newest first.")


class MergeIn(Strict):
    other_id: Id = Field(description="The complainant merged into this one; its complaints, contacts, deadlines and offers move here.")
    reason: Reason


class NotSameIn(Strict):
    other_id: Id


class Merge(BaseModel):
    id: int
    incident_id: int
    kept_id: int
    merged_id: int
    reason: str
    merged_at: str
    merged_by: Optional[int]
    undone_at: Optional[str]
    undone_by: Optional[int]
    moved: dict[str, int] = Field(description="How many rows of each kind moved.")


Matches.model_rebuild()
