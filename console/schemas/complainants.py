"""Complainants, their contacts and counts: what the API takes and answers."""

from decimal import Decimal
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .types import (
    Amount,
    BranchCode,
    ComplainantStatus,
    ComplaintChannel,
    ContactChannel,
    Created,
    EscalationChannel,
    Id,
    IdNumber,
    Moment,
    Motive,
    Name,
    NoticeProof,
    Phone,
    Reason,
    Reference,
    RegionCode,
    RiskFlag,
    Severity,
    Strict,
    Temperament,
    Text,
    unique,
)


class ComplainantIn(Strict):
    name: Name
    phone: Phone
    id_number: Optional[IdNumber] = None
    province_code: RegionCode
    city_code: Optional[RegionCode] = None
    branch_code: Optional[BranchCode] = None
    group_id: Optional[Id] = None
    temperament: Optional[Temperament] = None
    motive: Optional[Motive] = None
    flags: Annotated[list[RiskFlag], AfterValidator(unique)] = Field(default_factory=list)
    principal: Amount = 0
    interest_claimed: Amount = 0
    expenses_claimed: Amount = 0
    demands: Text = ""
    handler_id: Optional[Id] = None
    received_at: Optional[Moment] = None
    next_contact_due_at: Optional[Moment] = None
    severity: Optional[Severity] = Field(None, description="light, medium or severe (seed 004); left out: the incident's severity.")
    channel: Optional[ComplaintChannel] = Field(
        None,
        description="How this complaint arrived. An arrival whose ID or phone number matches a complainant of the incident becomes another complaint of that person.",
    )
    reference: Optional[Reference] = Field(None, description="This arrival's own reference (hotline ticket, form number).")
    transferring_body: Optional[Reference] = Field(
        None, description="For a transfer: who forwarded it (left out: 12378 for a regulator transfer, 12315 for the consumer association)."
    )
    transfer_reference: Optional[Reference] = Field(
        None, description="For a transfer: the transferring body's reference number (required for regulator and consumer-association transfers)."
    )
    reply_due_at: Optional[Moment] = Field(
        None,
        description="For a transfer: the transferring body's reply deadline (required for regulator and consumer-association transfers); the person's decision deadline becomes the earliest of their complaints'.",
    )


class ComplainantBatch(Strict):
    complainants: Annotated[list[ComplainantIn], Field(min_length=1)]


class ComplainantUpdate(Strict):
    """Only the fields sent are changed. ``version`` guards against lost updates."""

    version: Optional[Id] = Field(None, description="The version you read; a newer one in the database gives 409.")
    name: Name = None
    phone: Phone = None
    id_number: Optional[IdNumber] = None
    province_code: RegionCode = None
    city_code: Optional[RegionCode] = None
    branch_code: Optional[BranchCode] = None
    group_id: Optional[Id] = None
    status: ComplainantStatus = None
    escalation_channel: Optional[EscalationChannel] = None
    temperament: Optional[Temperament] = None
    motive: Optional[Motive] = None
    flags: Annotated[list[RiskFlag], AfterValidator(unique)] = None
    principal: Amount = None
    interest_claimed: Amount = None
    expenses_claimed: Amount = None
    demands: Text = None
    handler_id: Optional[Id] = None
    next_contact_due_at: Optional[Moment] = None
    severity: Severity = Field(None, description="A new severity; needs a reason. Its due times are computed again from the receipt.")
    received_at: Moment = Field(None, description="A corrected time of receipt (crisis lead only); needs a reason. The deadlines follow it.")
    reason: Reason = Field(None, description="Why the severity or the time of receipt changes (kept in the audit log).")


Overdue = Literal["first_response", "resolution", "supervisor", "decision", "contact"]


class ComplainantQuery(BaseModel):
    """Filters and paging for complainant lists; unknown query parameters are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    group_id: Optional[Id] = None
    province_code: Optional[RegionCode] = None
    branch_code: Optional[BranchCode] = None
    status: Optional[ComplainantStatus] = None
    flag: Optional[RiskFlag] = None
    overdue_contact: bool = False
    severity: Optional[Severity] = None
    overdue: Optional[Overdue] = Field(
        None,
        description="Only those past this due time and not yet done: first_response (no contact yet), resolution (still open), supervisor (severe, supervisor not told), decision (Art. 18), contact (a promised contact).",
    )
    q: Optional[Annotated[str, Field(max_length=100)]] = Field(
        None, description="Part of a name; or a whole phone or ID number (audited like a reveal when it matches), or the last four digits of one."
    )
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Optional[Id] = Field(
        None, description="Keyset paging for deep pages: the next_cursor of the previous page (rows after it, newest first); page is then ignored."
    )


class ContactIn(Strict):
    contacted_at: Optional[Moment] = None
    channel: ContactChannel
    said: Annotated[str, Field(min_length=1, max_length=5000)]
    promised: Annotated[str, Field(max_length=2000)] = ""
    next_contact_due_at: Optional[Moment] = None
    notice_proof: NoticeProof = "none"
    proof_reference: Annotated[str, Field(max_length=500)] = ""


class ExtensionIn(Strict):
    level: Annotated[int, Field(ge=1, le=2, description="1: to 30 days from receipt; 2: 30 more days")]
    reason: Reason
    approved_by: Annotated[str, Field(min_length=1, max_length=200)]
    complainant_notified_at: Moment


class Complainant(BaseModel):
    """Phone and ID number are masked unless the caller asked to reveal them."""

    id: int
    incident_id: int
    group_id: Optional[int]
    name: str
    phone: str
    id_number: Optional[str]
    province_code: str
    city_code: Optional[str]
    branch_code: Optional[str]
    status: ComplainantStatus
    escalation_channel: Optional[EscalationChannel]
    temperament: Optional[Temperament]
    motive: Optional[Motive]
    flags: list[RiskFlag]
    principal: Decimal
    interest_claimed: Decimal
    expenses_claimed: Decimal
    demands: str
    handler_id: Optional[int]
    received_at: str
    decision_due_at: str
    extension_level: int
    next_contact_due_at: Optional[str]
    first_contact_at: Optional[str]
    settled_at: Optional[str]
    version: int
    severity: Severity
    decision_last_day: str = Field(description="The local date the decision deadline ends on (Art. 18: the end of that calendar day).")
    first_response_due_at: Optional[str]
    resolution_due_at: Optional[str]
    supervisor_due_at: Optional[str]
    supervisor_told_at: Optional[str]


class ComplainantPage(BaseModel):
    complainants: list[Complainant]
    total: int
    page: int
    per_page: int
    next_cursor: Optional[int] = Field(None, description="Pass as cursor for the next page; null on the last page.")


class Revealed(BaseModel):
    """A complainant's phone and ID number in full (each reveal is logged)."""

    phone: str
    id_number: Optional[str]


class ComplainantsCreated(Created):
    """``ids`` has one complainant id per item sent, in order: a new person's, or
    the person an arrival was matched to (by ID or phone number, in this incident)."""

    new: int = Field(description="Complainants created.")
    linked: list[int] = Field(description="Indexes of the items that matched a complainant and became another complaint of that person.")
    also_in_incidents: list[int] = Field(
        description="Other incidents in which a complainant with one of these numbers is known (only those you may see); looked up for calls of at most 1,000 items (each complainant's page shows it too)."
    )


class Contact(BaseModel):
    id: int
    complainant_id: int
    contacted_at: str
    user_id: Optional[int]
    channel: ContactChannel
    said: str
    promised: str
    next_contact_due_at: Optional[str]
    notice_proof: NoticeProof
    proof_reference: str


class ContactList(BaseModel):
    contacts: list[Contact]


class CountRow(BaseModel):
    group_id: Optional[int]
    province_code: str
    status: ComplainantStatus
    count: int


class Counts(BaseModel):
    counts: list[CountRow]
