"""What the directory, user, catalogue and bulk-update imports accept and
return over JSON."""

from typing import Annotated, Optional

from pydantic import BaseModel, Field, model_validator

from ..errors import PLAIN
from .complainants import ComplainantUpdate
from .types import Id, Severity, Strict

Cell = Annotated[str, Field(max_length=200, pattern=PLAIN)]


class FileIn(Strict):
    """A CSV or XLSX file, its bytes in base64."""

    filename: Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN, description="Its name, e.g. directory.xlsx")]
    content_base64: Annotated[str, Field(min_length=1, description="The file's bytes, base64-encoded.")]


class OrgUnitRow(Strict):
    """One unit of the directory (the columns of the import file)."""

    kind: Annotated[str, Field(max_length=20, description="head_office, province, city or outlet")]
    code: Annotated[str, Field(max_length=40, pattern=PLAIN)]
    name: Annotated[str, Field(max_length=100, pattern=PLAIN)]
    province_code: Optional[Annotated[str, Field(max_length=6, pattern=PLAIN)]] = None
    city_code: Optional[Annotated[str, Field(max_length=6, pattern=PLAIN)]] = None
    address: Optional[Cell] = None
    managers: Optional[Annotated[list[Annotated[str, Field(max_length=60, pattern=PLAIN)]], Field(max_length=50)]] = Field(
        None, description="User names told when the outlet goes silent or a crowd gathers; leave out to keep the current ones."
    )
    active: Optional[bool] = Field(None, description="Outlets: false deactivates a closed outlet (it is never deleted).")


def _one_source(model):
    if (model.rows is None) == (model.file is None):
        raise ValueError("send either rows or file, not both and not neither")
    return model


class OrgImportIn(Strict):
    """The directory in bulk: rows, or a CSV/XLSX file. All or nothing."""

    rows: Optional[Annotated[list[OrgUnitRow], Field(min_length=1, max_length=20000)]] = None
    file: Optional[FileIn] = None
    dry_run: bool = Field(False, description="Check and report only (the preview); nothing is written.")

    _check = model_validator(mode="after")(_one_source)


class UserRow(Strict):
    username: Annotated[str, Field(max_length=60, pattern=PLAIN)]
    display_name: Optional[Annotated[str, Field(max_length=100, pattern=PLAIN)]] = None
    role: Annotated[str, Field(max_length=20)]
    scope: Optional[Annotated[str, Field(max_length=40, pattern=PLAIN)]] = None
    password: Optional[Annotated[str, Field(max_length=200)]] = Field(None, description="At least 8 characters; leave out for a random one, returned once.")


class UsersImportIn(Strict):
    """Users in bulk with role and scope: rows, or a CSV/XLSX file. All or nothing."""

    rows: Optional[Annotated[list[UserRow], Field(min_length=1, max_length=5000)]] = None
    file: Optional[FileIn] = None
    dry_run: bool = False

    _check = model_validator(mode="after")(_one_source)


class CatalogueRow(Strict):
    kind: Annotated[str, Field(max_length=20, description="cause or product")]
    code: Annotated[str, Field(max_length=100, pattern=PLAIN)]
    name: Annotated[str, Field(max_length=100, pattern=PLAIN)]
    window_minutes: Optional[Annotated[int, Field(ge=1, le=43200)]] = None
    threshold: Optional[Annotated[int, Field(ge=1, le=1000000)]] = None
    baseline_days: Optional[Annotated[int, Field(ge=1, le=366)]] = None
    baseline_factor: Optional[Annotated[float, Field(ge=0.1, le=1000, allow_inf_nan=False)]] = None
    baseline_min: Optional[Annotated[int, Field(ge=1, le=1000000)]] = None
    severity: Optional[Severity] = None


class CatalogueImportIn(Strict):
    rows: Optional[Annotated[list[CatalogueRow], Field(min_length=1, max_length=5000)]] = None
    file: Optional[FileIn] = None
    dry_run: bool = False

    _check = model_validator(mode="after")(_one_source)


class CatalogueEntryIn(Strict):
    """A cause's or product's name, and a cause's surge rule (null: as SURGE_RULES)."""

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN)]
    window_minutes: Optional[Annotated[int, Field(ge=1, le=43200)]] = None
    threshold: Optional[Annotated[int, Field(ge=1, le=1000000)]] = None
    baseline_days: Optional[Annotated[int, Field(ge=1, le=366)]] = None
    baseline_factor: Optional[Annotated[float, Field(ge=0.1, le=1000, allow_inf_nan=False)]] = None
    baseline_min: Optional[Annotated[int, Field(ge=1, le=1000000)]] = None
    severity: Optional[Severity] = Field(
        None, description="A cause's default severity (seed 004) for complaints that arrive without one; null: the incident's."
    )


class OutletActiveIn(Strict):
    active: bool = Field(description="false: the outlet closed (kept, refuses new complainants and updates); true: open again.")


class ComplainantBulkItem(ComplainantUpdate):
    """One complainant's change in a bulk update: say which by ``id`` or by the
    intake's ``external_id`` (with ``source`` when two systems share ids)."""

    id: Optional[Id] = None
    external_id: Optional[Annotated[str, Field(min_length=1, max_length=100)]] = None
    source: Optional[Annotated[str, Field(max_length=50)]] = None


class Problem(BaseModel):
    field: str
    message: str


class ImportRow(BaseModel):
    line: int
    action: str = Field(description="new, changed or unchanged ('' for a bad row)")
    problems: list[Problem]


class ImportReport(BaseModel):
    ok: bool
    dry_run: bool
    total: int
    counts: dict[str, int]
    rows: list[ImportRow]


class NewPassword(BaseModel):
    username: str
    password: str


class UsersImportReport(ImportReport):
    passwords: list[NewPassword] = Field(description="Random passwords made for rows without one: shown this once, only hashes are kept.")


class OrgUnit(BaseModel):
    kind: str
    code: str
    name: str
    address: str
    province_code: Optional[str]
    city_code: Optional[str]
    active: bool
    managers: list[str]


class Directory(BaseModel):
    units: list[OrgUnit]


class SurgeRule(BaseModel):
    window_minutes: int
    threshold: int
    baseline_days: int
    baseline_factor: float
    baseline_min: int


class CatalogueEntry(BaseModel):
    kind: str
    code: str
    name: str
    own: list[str] = Field(description="Rule settings this entry sets itself; the others follow SURGE_RULES.")
    rule: Optional[SurgeRule] = None
    severity: Optional[Severity] = None


class Catalogue(BaseModel):
    entries: list[CatalogueEntry]
    default_rule: SurgeRule


class BulkUpdated(BaseModel):
    ids: list[int]
    count: int
