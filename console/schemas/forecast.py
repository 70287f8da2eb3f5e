"""Early warning: the forecast."""

from typing import Literal, Optional

from pydantic import BaseModel, Field

from .. import vocabulary as v
from .types import ShortText, literal

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
    kind: literal(v.DEMAND_KINDS)
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


class CauseForecastQuery(BaseModel):
    cause_code: ShortText
