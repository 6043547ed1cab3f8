"""Which channels hear about which alerts: the routing file, checked completely at start.

The file names channels (a signed webhook, a Slack incoming webhook, an SMTP mailbox) and, per alert level and
per tenant, which of them receive an alert. `${NAME}` anywhere in a value is read from the environment, so secrets
stay out of the file. A mistake stops the service with the field and the problem named, and never the value.
"""

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    NameEmail,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas import Alert, Scope
from services.runtime.standard_webhooks import decode_secret

LOG_CHANNEL = "log"
"""Always defined: the service's own log, so that an alert is never delivered nowhere by accident."""

ChannelName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HTTP_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl)


class RoutingFileError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookChannelConfig(_Strict):
    """A URL that receives each alert as JSON signed with Standard Webhooks (a CRM callback, or anything else)."""

    type: Literal["webhook"]
    url: AnyHttpUrl
    secret: SecretStr = Field(description="'whsec_<base64>', the key the receiver verifies signatures with.")

    @field_validator("secret")
    @classmethod
    def _valid_secret(cls, value: SecretStr) -> SecretStr:
        decode_secret(value.get_secret_value())
        return value

    def key(self) -> bytes:
        return decode_secret(self.secret.get_secret_value())


class SlackChannelConfig(_Strict):
    """A Slack incoming webhook; its URL is the credential, so it is kept secret."""

    type: Literal["slack"]
    url: SecretStr

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        try:
            _HTTP_URL.validate_python(value.get_secret_value())
        except ValidationError:
            raise ValueError("must be an http(s) URL (the incoming webhook URL Slack gave you)") from None
        return value


class EmailChannelConfig(_Strict):
    """A mailbox reached over SMTP; recipients are fixed here (alerts carry ids, never addresses)."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: NameEmail
    recipients: list[EmailStr] = Field(min_length=1)

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> "EmailChannelConfig":
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: set both or neither")
        return self


ChannelConfig = Annotated[WebhookChannelConfig | SlackChannelConfig | EmailChannelConfig, Field(discriminator="type")]


class Route(_Strict):
    """Channels per alert level for pair alerts, and one list for team-level alerts (any level).

    In a tenant override, a level that is left out keeps the default route's channels.
    """

    watch: list[ChannelName] | None = None
    nuisance: list[ChannelName] | None = None
    stalking: list[ChannelName] | None = None
    resolved: list[ChannelName] | None = None
    team: list[ChannelName] | None = None

    def names(self) -> dict[str, list[str]]:
        return {key: value for key, value in self.model_dump().items() if value is not None}


class DefaultRoute(Route):
    watch: list[ChannelName] | None = [LOG_CHANNEL]
    nuisance: list[ChannelName] | None = [LOG_CHANNEL]
    stalking: list[ChannelName] | None = [LOG_CHANNEL]
    resolved: list[ChannelName] | None = [LOG_CHANNEL]
    team: list[ChannelName] | None = [LOG_CHANNEL]


class Routes(_Strict):
    default: DefaultRoute = DefaultRoute()
    tenants: dict[Annotated[str, Field(pattern=r"^[^\s:]+$")], Route] = {}


class Routing(_Strict):
    """The whole routing file; without one, every alert goes to the log only."""

    channels: dict[ChannelName, ChannelConfig] = {}
    routes: Routes = Routes()

    @model_validator(mode="after")
    def _routes_name_defined_channels(self) -> "Routing":
        if LOG_CHANNEL in self.channels:
            raise ValueError(f"channels.{LOG_CHANNEL}: the name '{LOG_CHANNEL}' is built in; choose another")
        known = {LOG_CHANNEL, *self.channels}
        scopes: list[tuple[str, Route]] = [("routes.default", self.routes.default)]
        scopes += [(f"routes.tenants.{tenant}", route) for tenant, route in self.routes.tenants.items()]
        for where, route in scopes:
            for key, names in route.names().items():
                for index, name in enumerate(names):
                    if name not in known:
                        raise ValueError(
                            f"{where}.{key}.{index}: unknown channel '{name}' (defined: {', '.join(sorted(known))})"
                        )
        return self

    def channels_for(self, alert: Alert) -> list[str]:
        """The channel names for this alert, in the order written, each once."""
        key = "team" if alert.scope is Scope.TEAM else alert.level.value
        override = self.routes.tenants.get(alert.tenant)
        names = override.names().get(key) if override is not None else None
        if names is None:
            names = self.routes.default.names()[key]
        return list(dict.fromkeys(names))


def _resolve_env(value: Any, path: str, missing: list[str]) -> Any:
    """Replace `${NAME}` by the environment variable NAME, collecting the ones that are not set."""
    if isinstance(value, dict):
        return {key: _resolve_env(item, f"{path}.{key}", missing) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_env(item, f"{path}.{index}", missing) for index, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            missing.append(f"routing{path}: environment variable {name} is not set")
            return ""
        return os.environ[name]

    return _ENV_REFERENCE.sub(substitute, value)


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"routing.{location}: {message}" if location else f"routing.{message}")
    return problems


def load_routing(path: Path | None) -> Routing:
    """The routing in `path`, or log-only routing when no file is configured."""
    if path is None:
        return Routing()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingFileError(f"NOTIFY_ROUTING_FILE {path}: cannot read routing: {exc}") from None
    if not isinstance(raw, dict):
        raise RoutingFileError(f"NOTIFY_ROUTING_FILE {path}: routing must be a mapping with 'channels' and 'routes'")
    missing: list[str] = []
    resolved = _resolve_env(raw, "", missing)
    if missing:
        raise RoutingFileError(f"NOTIFY_ROUTING_FILE {path}: " + "; ".join(missing))
    try:
        return Routing.model_validate(resolved)
    except ValidationError as exc:
        raise RoutingFileError(f"NOTIFY_ROUTING_FILE {path}: " + "; ".join(_problems(exc))) from None
