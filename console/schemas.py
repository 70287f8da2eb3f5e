"""What the console accepts and returns, as pydantic models.

These models validate the JSON API, the HTML forms and the CSV import alike,
and generate the OpenAPI document, so a rule is written once.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Optional, Union

from flask_babel import gettext as _
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from . import vocabulary as v
from .errors import PLAIN, PLAIN_NOT_BLANK
from .identity import id_check_character, id_number_problem
from .playbooks import DocumentKind, Role, Trigger


def _literal(mapping):
    return Literal[tuple(mapping)]


Severity = _literal(v.SEVERITIES)
IncidentStatus = _literal(v.INCIDENT_STATUSES)
ComplainantStatus = _literal(v.COMPLAINANT_STATUSES)
EscalationChannel = _literal(v.ESCALATION_CHANNELS)
Temperament = _literal(v.TEMPERAMENTS)
Motive = _literal(v.MOTIVES)
RiskFlag = _literal(v.RISK_FLAGS)
ContactChannel = _literal(v.CONTACT_CHANNELS)
NoticeProof = _literal(v.NOTICE_PROOFS)
ComplaintChannel = _literal(v.COMPLAINT_CHANNELS)


def _aware(moment):
    if moment is not None and moment.tzinfo is None:
        raise ValueError("needs a time zone, for example 2026-11-23T18:00:00+08:00")
    return moment


def _unique(values):
    if len(set(values)) != len(values):
        raise ValueError("lists a value twice")
    return values


def _iso_text(pattern, parse, message):
    """A before-validator taking ISO 8601 text only: pydantic alone reads 0 or
    "1700000000" as Unix time, and 0 or "0" as 1970-01-01."""

    def check(value):
        if isinstance(value, (int, float)):
            raise ValueError(message)
        if isinstance(value, str):
            try:
                if not re.match(pattern, value):
                    raise ValueError(value)
                return parse(value)
            except ValueError:
                raise ValueError(message) from None
        return value

    return check


Moment = Annotated[
    datetime,
    BeforeValidator(
        _iso_text(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}",
            datetime.fromisoformat,
            "must be a date and time with a zone, for example 2026-11-23T18:00:00+08:00",
        )
    ),
    AfterValidator(_aware),
]


Day = Annotated[date, BeforeValidator(_iso_text(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", date.fromisoformat, "must be a date, for example 2026-11-23"))]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Text a person typed has no control characters (NUL, escape, ...; tab and line
# breaks are fine); PLAIN_NOT_BLANK is also not blank (a name of spaces is no name).
Text = Annotated[str, Field(max_length=5000, pattern=PLAIN)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN_NOT_BLANK)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_NOT_BLANK)]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=PLAIN_NOT_BLANK)]
Reference = Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_NOT_BLANK)]


def _phone_number(value):
    """A number a complainant can be called back on: a mainland mobile (11
    digits, 1[3-9]...), a landline with its area code (0...), or an
    international number (+ and a country code other than 86). A number that
    cannot be called back weakens every contact clock."""
    if len(value) == 11 and value.isdigit() and value[0] == "1" and value[1] in "3456789":
        return value  # a plain mobile number, as bulk imports send them: nothing more to check (2 us -> 0.2 us)
    digits = re.sub(r"[ \-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("+"):
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", digits):
            raise ValueError("must be an international number: + and the country code, 8 to 15 digits")
        return value
    if digits.startswith("1"):
        if not re.fullmatch(r"1[3-9][0-9]{9}", digits):
            raise ValueError("must be a mobile number of 11 digits starting 13 to 19, for example 13812345678")
    elif digits.startswith("0"):
        if not re.fullmatch(r"0[1-9][0-9]{1,2}[2-9][0-9]{6,7}", digits):
            raise ValueError("must be a landline with its area code, for example 010-88886666 or 0311-8888123")
    else:
        raise ValueError("must be a mobile number (11 digits starting 13 to 19) or a landline with its area code, for example 010-88886666")
    return value


Phone = Annotated[
    str,
    Field(
        pattern=r"^\+?[0-9][0-9 \-]{4,19}$",
        description="A mainland mobile (11 digits starting 13-19), a landline with its area code (010-88886666), or +country code and number; spaces and dashes allowed.",
    ),
    AfterValidator(_phone_number),
]


def _id_check(value):
    """GB 11643: the 18th character is the check of the other 17 (a typo is refused, not stored)."""
    if len(value) == 18 and value[17].upper() == id_check_character(value):
        return value  # the pattern has checked the shape: the right check character is all that is left
    if id_number_problem(value):
        raise ValueError(
            _(
                "has a wrong check character: the 18th character of this number must be %(expected)s (GB 11643); check the number for a mistyped digit",
                expected=id_check_character(value[:17]),
            )
        )
    return value


IdNumber = Annotated[
    str,
    Field(pattern=r"^([0-9]{15}|[0-9]{17}[0-9Xx])$", description="Resident ID: 18 characters, the last the GB 11643 check character (0-9 or X), or 15 digits."),
    AfterValidator(_id_check),
]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="Six-digit GB/T 2260 code.")]
BranchCode = Annotated[str, Field(min_length=1, max_length=40)]
# Yuan as a number (or numeric string); at most two decimals, checked when
# converted to fen. A float here validates ~2x faster than Decimal in bulk
# imports, and 13 significant digits convert to fen exactly.
YUAN_TEXT = r"^[0-9]+(\.[0-9]+)?$"
MAX_YUAN = 100_000_000_000


def _yuan_text(value):
    # JSON bodies are read strictly (no "5" for 5), but an amount may also come
    # as text ("80000.50"), the way clients that keep money as decimals send it
    if isinstance(value, str) and re.match(YUAN_TEXT, value):
        return float(value)
    return value


Amount = Annotated[
    float,
    Field(ge=0, le=MAX_YUAN, allow_inf_nan=False),
    BeforeValidator(_yuan_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0, "maximum": MAX_YUAN}, {"type": "string", "pattern": YUAN_TEXT}],
            "description": "Yuan, at most two decimals: a number, or the same as text.",
        },
        mode="validation",
    ),
]


class Strict(BaseModel):
    # No str_strip_whitespace: it costs a third of bulk validation time; forms
    # and CSV rows are stripped when read, API clients send what they mean.
    model_config = ConfigDict(extra="forbid")


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
    representative_ids: Annotated[list[Id], AfterValidator(_unique)] = []


class GroupUpdate(Strict):
    name: ShortText = None
    handling_line: Text = None
    representative_ids: Optional[Annotated[list[Id], AfterValidator(_unique)]] = None


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
    flags: Annotated[list[RiskFlag], AfterValidator(_unique)] = Field(default_factory=list)
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
    flags: Annotated[list[RiskFlag], AfterValidator(_unique)] = None
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


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    since: Annotated[int, Field(ge=0, le=2**63 - 1, description="The last sequence number the client has applied.")] = 0


class AlertsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    incident_id: Optional[Id] = Field(None, description="Only this incident's alerts.")
    kind: Optional[Annotated[str, Field(max_length=50, pattern=r"^[a-z_]+$")]] = Field(None, description="Only alerts of this kind.")
    before_id: Optional[Id] = Field(None, description="Cursor: only alerts older than this id (the next_before_id of the previous page).")
    per_page: Annotated[int, Field(ge=1, le=500)] = 50


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


Mood = Literal["calm", "tense", "hostile"]


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


class TaskUpdate(Strict):
    owner_user_id: Optional[Id] = Field(None, description="The named owner (null: nobody named).")
    notes: Annotated[str, Field(max_length=5000)] = None
    checklist_done: Annotated[list[Annotated[int, Field(ge=0, le=200)]], Field(max_length=200)] = Field(
        None, description="Indexes of the checklist items that are done."
    )


Party = Literal["regulator", "consumer_association", "media", "police"]


class ReferralIn(Strict):
    party: Party
    recipient: ShortText
    what_sent: Annotated[str, Field(min_length=1, max_length=2000, pattern=PLAIN_NOT_BLANK)]
    task_id: Optional[Id] = None


class AcknowledgementIn(Strict):
    acknowledged_by_name: ShortText


class DocumentIssue(Strict):
    """Issue a document built from the live data; it is kept exactly as issued."""

    kind: Literal["regulator_report", "consumer_association_packet", "media_statement", "early_warning_plan"]
    recipient: ShortText
    reporting_unit: Annotated[str, Field(max_length=200, description="The reporting unit named in the document; empty: the ORGANISATION_NAME setting.")] = ""
    signing_officer: Annotated[str, Field(max_length=100)] = ""
    contact_person: Annotated[str, Field(max_length=100)] = ""
    contact_phone: Annotated[str, Field(max_length=40)] = ""
    task_id: Optional[Id] = None


class AgreedLineIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=5000, pattern=PLAIN_NOT_BLANK)]


class RollupText(Strict):
    """The crisis lead's words in a draft roll-up."""

    summary: Annotated[str, Field(max_length=5000)] = ""
    outlook: Annotated[str, Field(max_length=5000, description="Outlook for the next 12/24/48/72 h (ICS-209).")] = ""
    needs: Annotated[str, Field(max_length=5000, description="Critical needs.")] = ""


class RollupCorrection(Strict):
    reason: Reason


# --- responses -------------------------------------------------------------


class Error(BaseModel):
    error: str
    details: Optional[object] = None


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


class Created(BaseModel):
    ids: list[int]
    count: int


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


# --- settlements (console/settlements.py) -------------------------------------

Percent = Annotated[int, Field(ge=0, le=100)]


class GroupTermsIn(Strict):
    """A group's standard terms: the share of principal and of claimed interest
    repaid, whether evidenced expenses are paid, and the terms as written."""

    principal_pct: Percent
    interest_pct: Percent
    pays_expenses: bool
    text: Annotated[str, Field(min_length=1, max_length=5000, pattern=PLAIN_NOT_BLANK)]


class TierIn(Strict):
    name: ShortText
    starts_on: Day = Field(description="First day of the window (local date), included.")
    ends_on: Day = Field(description="Last day of the window (local date), included.")
    award: Amount = Field(description="Award in yuan for accepting inside this window.")


class TiersIn(Strict):
    tiers: Annotated[list[TierIn], Field(max_length=20)]


class OfferIn(Strict):
    """Components left out come from the group's standard terms."""

    principal: Optional[Amount] = None
    interest: Optional[Amount] = None
    expenses: Amount = 0
    expenses_evidence: Annotated[str, Field(max_length=2000, pattern=PLAIN)] = ""
    lawyer_fees: Amount = 0
    indirect_loss: Amount = 0
    override_reason: Optional[Annotated[str, Field(max_length=2000, pattern=PLAIN)]] = Field(
        None, description="The crisis lead's written reason for going above the cap or paying lawyer's fees or indirect loss."
    )
    note: Text = ""


class AgreementIn(Strict):
    parties: Annotated[str, Field(min_length=1, max_length=2000, pattern=PLAIN_NOT_BLANK)]
    signed_on: Day
    liquidated_damages: Amount
    estimated_loss: Amount = Field(description="The loss a breach would cause, as estimated by legal (the 30% test).")
    clause_version: ShortText
    witness_reference: Annotated[str, Field(min_length=1, max_length=500, pattern=PLAIN_NOT_BLANK, description="Recording or witness reference.")]
    document_name: Annotated[str, Field(min_length=1, max_length=200)]
    document_base64: Annotated[str, Field(min_length=1, max_length=28_000_000, description="The signed agreement (PDF, PNG or JPEG), base64.")]


class BreachIn(Strict):
    occurred_on: Day
    evidence: Reason
    damages_claimed: Amount


# Settlement responses (console/settlements.py). Amounts are yuan as Decimal,
# written as strings ("8000.5"), like Complainant's; dates are the stored text.

SettlementStatus = Literal["accepted", "final", "withdrawn"]
OfferStatus = Literal["open", "accepted", "declined", "superseded", "withdrawn"]


class GroupTerms(BaseModel):
    """The group_terms row as stored."""

    group_id: int
    principal_pct: int
    interest_pct: int
    pays_expenses: bool
    text: str
    version: int
    set_by: Optional[int]
    set_at: str


class Tier(BaseModel):
    id: int
    group_id: int
    name: str
    starts_on: str
    ends_on: str
    award_fen: int
    award: Decimal


class Terms(BaseModel):
    group_id: int
    terms: Optional[GroupTerms] = Field(description="Null until the group's terms are set.")
    tiers: list[Tier]


class Offer(BaseModel):
    id: int
    complainant_id: int
    incident_id: int
    group_id: Optional[int]
    expenses_evidence: str
    differs_from_terms: bool
    override_reason: Optional[str]
    override_by: Optional[int]
    note: str
    status: OfferStatus
    made_by: Optional[int]
    made_at: str
    principal: Decimal
    interest: Decimal
    expenses: Decimal
    lawyer_fees: Decimal
    indirect_loss: Decimal
    total: Decimal
    cap: Decimal


class Breach(BaseModel):
    id: int
    agreement_id: int
    occurred_on: str
    evidence: str
    recorded_by: Optional[int]
    recorded_at: str
    damages_claimed: Decimal


class Agreement(BaseModel):
    id: int
    settlement_id: int
    parties: str
    signed_on: str
    damages_warning: bool
    clause_version: str
    document_name: str
    document_sha256: str
    document_size: int
    content_type: str
    witness_reference: str
    created_by: Optional[int]
    created_at: str
    liquidated_damages: Decimal
    estimated_loss: Decimal
    breaches: list[Breach]


class Settlement(BaseModel):
    id: int
    complainant_id: int
    incident_id: int
    group_id: Optional[int]
    offer_id: int
    accepted_on: str
    accepted_at: str
    tier_id: Optional[int]
    status: SettlementStatus
    finalised_at: Optional[str]
    followup_due_at: Optional[str]
    created_by: Optional[int]
    tier_award: Decimal
    total: Decimal
    tier_name: Optional[str]
    offer: Offer
    agreement: Optional[Agreement]
    differs_from_terms: bool
    needs_agreement: bool


class SettlementView(BaseModel):
    """One read of a complainant's settlement records, from the audit log."""

    at: str
    username: Optional[str]
    action: str


class StandardOffer(BaseModel):
    principal: Decimal
    interest: Decimal


class ComplainantSettlement(BaseModel):
    views: list[SettlementView]
    complainant_id: int
    group_id: Optional[int]
    terms: Optional[GroupTerms]
    standard: Optional[StandardOffer] = Field(description="What the group's terms give this complainant; null without terms.")
    tiers: list[Tier]
    offers: list[Offer]
    settlements: list[Settlement]


class RegisterRow(BaseModel):
    settlement_id: int
    complainant_id: int
    name: str
    group: Optional[str]
    province_code: str
    branch_code: Optional[str]
    status: SettlementStatus
    accepted_on: str
    tier: Optional[str]
    principal: Decimal
    interest: Decimal
    expenses: Decimal
    expenses_evidence: str
    lawyer_fees: Decimal
    indirect_loss: Decimal
    tier_award: Decimal
    total: Decimal
    differs_from_terms: bool
    override_reason: Optional[str]
    finalised_at: Optional[str]
    followup_due_at: Optional[str]
    agreement_signed_on: Optional[str]
    liquidated_damages: Optional[Decimal]
    damages_warning: Optional[bool]
    clause_version: Optional[str]
    document_sha256: Optional[str]
    witness_reference: Optional[str]
    breaches: int


class SettlementRegister(BaseModel):
    settlements: list[RegisterRow]


# --- tasks, referrals, documents, the agreed line (console/tasks.py, referrals.py, issuing.py) ---


class ChecklistItem(BaseModel):
    text: str
    done: bool


class Task(BaseModel):
    id: int
    incident_id: int
    key: str
    trigger: Trigger
    trigger_ref: str = Field(description="The day, settlement or group the task was made for ('' for once-only tasks).")
    stream: str
    title: str
    owner_role: Role
    owner_user_id: Optional[int]
    due_at: str
    depends_on: list[str] = Field(description="Keys of the tasks this one waits for.")
    status: Literal["open", "done"]
    checklist: list[ChecklistItem]
    notes: str
    referral_party: Optional[Party]
    document_kind: Optional[DocumentKind]
    completed_by: Optional[int]
    completed_at: Optional[str]


PERSONAL_DATA_FIELDS_HELP = (
    "The free-text fields of what was just written that hold a phone or ID number: it is stored as written, "
    "but executives (and branch contacts, for text outside their scope) read those numbers masked. Empty when none."
)


class UpdatedTask(Task):
    personal_data_fields: list[str] = Field(default_factory=list, description=PERSONAL_DATA_FIELDS_HELP)


class TaskList(BaseModel):
    tasks: list[Task]


class Referral(BaseModel):
    id: int
    incident_id: int
    task_id: Optional[int]
    party: Party
    recipient: str
    what_sent: str
    document_id: Optional[int]
    sent_at: str
    sent_by: Optional[int]
    ack_due_at: str
    acknowledged_by_name: Optional[str]
    acknowledged_at: Optional[str]
    recorded_by: Optional[int]


class ReferralList(BaseModel):
    referrals: list[Referral]


class IssuedDocument(BaseModel):
    """An issued document's record (where it is stored is not shown)."""

    id: int
    incident_id: int
    kind: Union[DocumentKind, Literal["review"]] = Field(description="A document issued to an outside party, or the post-incident review.")
    title: str
    recipient: str
    issued_at: str
    issued_by: Optional[int]
    filename: str
    content_type: str
    size: int
    sha256: str


class DocumentList(BaseModel):
    documents: list[IssuedDocument]


class DocumentIssued(BaseModel):
    document_id: int
    referral_id: Optional[int] = Field(
        description="The referral to the outside party, recorded with it; null for an internal document (the early-warning plan)."
    )


class NewId(BaseModel):
    id: int


class AgreedLine(BaseModel):
    id: int
    incident_id: int
    text: str
    drafted_by: Optional[int]
    drafted_at: str
    approved_by: Optional[int]
    approved_at: Optional[str]


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
    report_type: Literal["initial", "update", "final"]
    period_start: str
    period_end: str
    generated_at: str
    late: int = Field(description="1: made after its cut-off (the server was down); 0: on time.")
    status: Literal["draft", "approved", "issued"]
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
    level: Literal["info", "warning", "critical"]
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
    level: Literal["info", "warning", "critical"]
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
    status: Literal["open", "done"]
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


# --- early warning: the forecast (console/forecast.py) ------------------------------------------


class ForecastHorizon(BaseModel):
    hours: int = Field(description="24, 72 or 168 (7 days) hours ahead")
    expected: int = Field(description="Expected new complainants in that time (median of the simulated futures)")
    low: int = Field(description="Low end of the 80% interval")
    high: int = Field(description="High end of the 80% interval")


class ForecastExposure(BaseModel):
    hours: int
    expected_fen: Optional[int] = Field(
        description="Expected amount claimed by those still to come (fen); null when no claim is known yet or amounts are suppressed"
    )
    low_fen: Optional[int]
    high_fen: Optional[int]
    mean_claim_fen: Optional[int]


class DemandShare(BaseModel):
    kind: Literal["principal", "interest", "expenses", "compensation", "apology", "accountability", "publicity", "other"]
    people: int
    share: float = Field(description="Share of the people who recorded a demand (a demand may name several kinds)")


class DemandShares(BaseModel):
    people: int
    shares: list[DemandShare]


class ForecastActual(BaseModel):
    start: str
    count: int


class ForecastAhead(BaseModel):
    start: str
    expected: float
    low: float
    high: float


class Forecast(BaseModel):
    """Arrivals are counted in bins of ``bin_hours`` ending at ``generated_at``."""

    generated_at: str
    method: Literal["ets", "poisson"] = Field(description="ets: statsmodels exponential smoothing; poisson: too little history, the rate so far")
    level: float
    bin_hours: int
    last_24h: int
    complainants: Optional[int] = None
    horizons: list[ForecastHorizon]
    exposure: list[ForecastExposure]
    demands: DemandShares
    actual: list[ForecastActual]
    ahead: list[ForecastAhead]
    amounts_suppressed_below: Optional[int] = None


class RollupForecast(BaseModel):
    """The early warning when the roll-up was made (console/forecast.py): counts only."""

    method: Literal["ets", "poisson"]
    last_24h: int
    horizons: list[ForecastHorizon]
    demands: DemandShares


RollupContent.model_rebuild()
Rollup.model_rebuild()


class CauseForecastQuery(BaseModel):
    cause_code: ShortText


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
