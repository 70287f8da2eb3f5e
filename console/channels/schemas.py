"""The channel and rule models (API, forms and the OpenAPI document).

Kept beside the channels rather than in console/schemas/, which imports
them nowhere: they are used by console/api/channels.py and console/web/channels.py.
"""

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, Field, TypeAdapter

from ..errors import PLAIN_NOT_BLANK
from ..schemas import AlertLevel, Id, Name, Strict

Credential = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[!-~]+$", description="As the vendor shows it: printable ASCII, no spaces.")]
Url = Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://[!-~]+$", description="An http:// or https:// address.")]
Host = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-]+$|^\[[0-9A-Fa-f:.]+\]$")]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")]
AlertKind = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z_]*$")]
Level = AlertLevel


class WeComChannelIn(Strict):
    """A WeCom (企业微信) group robot: the key in its webhook address."""

    kind: Literal["wecom"]
    name: Name
    enabled: bool = True
    key: Credential


class DingTalkChannelIn(Strict):
    """A DingTalk (钉钉) custom robot with the 'signature' security setting."""

    kind: Literal["dingtalk"]
    name: Name
    enabled: bool = True
    access_token: Credential
    secret: Credential = Field(description="The robot's signing secret (SEC...).")


class FeishuChannelIn(Strict):
    """A Feishu (飞书) custom bot with signature verification."""

    kind: Literal["feishu"]
    name: Name
    enabled: bool = True
    hook_id: Credential = Field(description="The last part of the bot's webhook address.")
    secret: Credential
    msg_type: Literal["text", "post", "interactive"] = "post"


class EmailChannelIn(Strict):
    """An SMTP mailbox: STARTTLS (usually port 587) or SSL (465), with a log-in."""

    kind: Literal["email"]
    name: Name
    enabled: bool = True
    host: Host
    port: int = Field(ge=1, le=65535)
    security: Literal["starttls", "ssl"] = "starttls"
    username: Optional[Annotated[str, Field(min_length=1, max_length=254, pattern=PLAIN_NOT_BLANK)]] = None
    password: Optional[Annotated[str, Field(min_length=1, max_length=500)]] = None
    sender: Email
    recipients: list[Email] = Field(min_length=1, max_length=50)


class WebhookChannelIn(Strict):
    """The console's signed JSON webhook (X-Console-Signature), one alert per POST."""

    kind: Literal["webhook"]
    name: Name
    enabled: bool = True
    url: Url
    secret: Credential


ChannelIn = Annotated[Union[WeComChannelIn, DingTalkChannelIn, FeishuChannelIn, EmailChannelIn, WebhookChannelIn], Field(discriminator="kind")]
CHANNEL_MODELS = {"wecom": WeComChannelIn, "dingtalk": DingTalkChannelIn, "feishu": FeishuChannelIn, "email": EmailChannelIn, "webhook": WebhookChannelIn}
CHANNEL_ADAPTER = TypeAdapter(ChannelIn)


class ChannelPatch(Strict):
    """Fields to change; a credential left out is kept. The kind cannot change."""

    name: Optional[Name] = None
    enabled: Optional[bool] = None
    key: Optional[Credential] = None
    access_token: Optional[Credential] = None
    secret: Optional[Credential] = None
    hook_id: Optional[Credential] = None
    msg_type: Optional[Literal["text", "post", "interactive"]] = None
    host: Optional[Host] = None
    port: Optional[int] = Field(None, ge=1, le=65535)
    security: Optional[Literal["starttls", "ssl"]] = None
    username: Optional[Annotated[str, Field(min_length=1, max_length=254, pattern=PLAIN_NOT_BLANK)]] = None
    password: Optional[Annotated[str, Field(min_length=1, max_length=500)]] = None
    sender: Optional[Email] = None
    recipients: Optional[list[Email]] = Field(None, min_length=1, max_length=50)
    url: Optional[Url] = None


class ChannelRuleIn(Strict):
    channel_id: Id
    kinds: list[AlertKind] = Field(default_factory=list, max_length=30, description="Alert kinds (e.g. mass_incident, missed_update); empty: every kind.")
    min_level: Level = "info"
    scope_code: Optional[Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\-_]+$")]] = Field(
        None, description="A province code (130000) or branch code: only alerts about that place. Null: anywhere."
    )


class Channel(BaseModel):
    id: int
    name: str
    kind: str
    enabled: bool
    settings: dict[str, Union[str, int, bool, list[str]]] = Field(description="Its settings; credentials masked to their last four characters.")
    failures: int
    retry_at: Optional[str]
    pending: int
    created_at: str
    updated_at: str


class ChannelList(BaseModel):
    channels: list[Channel]


class ChannelRule(BaseModel):
    id: int
    channel_id: int
    kinds: list[str]
    min_level: str
    scope_kind: Optional[str]
    scope_code: Optional[str]
    created_at: str


class ChannelRuleList(BaseModel):
    rules: list[ChannelRule]


class ChannelAttempt(BaseModel):
    id: int
    channel_id: int
    at: str
    ok: bool
    status: Optional[int]
    error: Optional[str]
    deliveries: list[int]


class ChannelAttemptList(BaseModel):
    attempts: list[ChannelAttempt]


class TestSend(BaseModel):
    delivery_id: int
    delivered: bool
    waiting: int = Field(description="Messages still queued for the channel (rate limit or backoff).")
    attempts: list[ChannelAttempt]
