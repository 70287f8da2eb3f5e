"""Settlements: terms, tiers, offers, agreements and breaches."""

from decimal import Decimal
from typing import Annotated, Optional

from pydantic import BaseModel, Field

from .. import vocabulary as v
from ..errors import PLAIN, PLAIN_NOT_BLANK
from .types import Amount, Day, Reason, ShortText, Strict, Text, literal

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

SettlementStatus = literal(v.SETTLEMENT_STATUSES)
OfferStatus = literal(v.OFFER_STATUSES)


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
