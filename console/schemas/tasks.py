"""Tasks, referrals, issued documents and the agreed line."""

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, Field

from ..errors import PLAIN_NOT_BLANK
from ..playbooks import DocumentKind, Party, Role, Trigger
from .types import Id, ShortText, Strict, TaskStatus


class TaskUpdate(Strict):
    owner_user_id: Optional[Id] = Field(None, description="The named owner (null: nobody named).")
    notes: Annotated[str, Field(max_length=5000)] = None
    checklist_done: Annotated[list[Annotated[int, Field(ge=0, le=200)]], Field(max_length=200)] = Field(
        None, description="Indexes of the checklist items that are done."
    )


class ReferralIn(Strict):
    party: Party
    recipient: ShortText
    what_sent: Annotated[str, Field(min_length=1, max_length=2000, pattern=PLAIN_NOT_BLANK)]
    task_id: Optional[Id] = None


class AcknowledgementIn(Strict):
    acknowledged_by_name: ShortText


class DocumentIssue(Strict):
    """Issue a document built from the live data; it is kept exactly as issued."""

    kind: DocumentKind
    recipient: ShortText
    reporting_unit: Annotated[str, Field(max_length=200, description="The reporting unit named in the document; empty: the ORGANISATION_NAME setting.")] = ""
    signing_officer: Annotated[str, Field(max_length=100)] = ""
    contact_person: Annotated[str, Field(max_length=100)] = ""
    contact_phone: Annotated[str, Field(max_length=40)] = ""
    task_id: Optional[Id] = None


class AgreedLineIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=5000, pattern=PLAIN_NOT_BLANK)]


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
    status: TaskStatus
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


class AgreedLine(BaseModel):
    id: int
    incident_id: int
    text: str
    drafted_by: Optional[int]
    drafted_at: str
    approved_by: Optional[int]
    approved_at: Optional[str]
