"""The one settings object for every process: environment variables over a settings file over defaults.

Stdlib only and Python 3.10-compatible, because the launcher, the Rasa runtime (3.10) and the
action runtime (3.11) all read it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from settings.channels import ChannelSettingsError, SocialChannels, read_social_channels

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE_VARIABLE = "SHOP_SETTINGS_FILE"
DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "shop.env"

# Set in every process we start: nothing may reach a model hub or report telemetry, and known
# harmless noise from pinned libraries (Rasa 3.6 on SQLAlchemy 1.4) stays out of the logs.
BASE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "RASA_TELEMETRY_ENABLED": "false",
    "TOKENIZERS_PARALLELISM": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONUNBUFFERED": "1",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


class SettingsError(ValueError):
    """A setting is malformed; the message names the setting and the bad value."""


def read_settings_file(path: Path) -> dict[str, str]:
    """Parse a KEY=VALUE file (blank lines and # comments allowed)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _port(values: Mapping[str, str], key: str, default: int) -> int:
    raw = values.get(key, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"{key} must be a port number (1-65535), got {raw!r}") from None
    if not 1 <= port <= 65535:
        raise SettingsError(f"{key} must be a port number (1-65535), got {port}")
    return port


def _seconds(values: Mapping[str, str], key: str, default: float) -> float:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise SettingsError(f"{key} must be a number of seconds, got {raw!r}") from None
    if not 0 < seconds <= 600:
        raise SettingsError(f"{key} must be between 0 and 600 seconds, got {raw!r}")
    return seconds


def _url(values: Mapping[str, str], key: str, default: str) -> str:
    raw = values.get(key, default).rstrip("/")
    if not raw.startswith(("http://", "https://")) or " " in raw:
        raise SettingsError(f"{key} must be an http(s) address without spaces, got {raw!r}")
    return raw


def _path(values: Mapping[str, str], key: str, default: Path) -> Path:
    raw = values.get(key, "").strip()
    path = Path(raw).expanduser() if raw else default
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    """Every location, address, port and secret the product uses."""

    data_dir: Path
    models_dir: Path
    reports_dir: Path
    host: str
    rasa_port: int
    action_port: int
    web_port: int
    console_port: int
    rasa_auth_token: str | None
    identity_secret: str | None
    endpoints_file: Path
    credentials_file: Path
    log_level: str
    shop_database_url: str
    tracker_database_url: str
    shop_url: str
    action_timeout: float
    # web pages allowed to embed the chat widget (scheme://host[:port]); see allowed_origins()
    widget_origins: tuple[str, ...] = ()
    widget_secret: str | None = None
    # Messenger, Telegram, Twilio (WhatsApp/SMS), Slack: each on when its secrets are set (settings/channels.py)
    social: SocialChannels = field(default_factory=SocialChannels)

    @property
    def tracker_db_path(self) -> Path:
        """SQLite tracker store of the embedded profile."""
        return self.data_dir / "tracker.db"

    @property
    def generated_token_file(self) -> Path:
        """Where the Rasa API token is kept when RASA_AUTH_TOKEN is not set."""
        return self.data_dir / "rasa_auth_token"

    @property
    def generated_identity_secret_file(self) -> Path:
        """Where the customer-token secret is kept when SHOP_IDENTITY_SECRET is not set."""
        return self.data_dir / "identity_secret"

    def secret_for_identity(self) -> str:
        """SHOP_IDENTITY_SECRET, or a random secret generated once and kept in the data folder."""
        return self.identity_secret or read_or_create_secret(self.generated_identity_secret_file)

    @property
    def generated_widget_secret_file(self) -> Path:
        """Where the widget's session-token secret is kept when SHOP_WIDGET_SECRET is not set."""
        return self.data_dir / "widget_secret"

    def secret_for_widget(self) -> str:
        """SHOP_WIDGET_SECRET, or a random secret generated once and kept in the data folder."""
        return self.widget_secret or read_or_create_secret(self.generated_widget_secret_file)

    def allowed_origins(self) -> tuple[str, ...]:
        """Origins whose pages may open the chat: SHOP_ALLOWED_ORIGINS, else the demo page's own."""
        return self.widget_origins or (self.web_url,)

    @property
    def logs_dir(self) -> Path:
        """Where the launcher writes each service's log."""
        return self.data_dir / "logs"

    @property
    def catalog_file(self) -> Path:
        """The shop's product catalog (JSON lines)."""
        return self.data_dir / "shop" / "catalog.jsonl"

    @property
    def rasa_models_dir(self) -> Path:
        """Trained Rasa models and their manifest."""
        return self.models_dir / "rasa"

    @property
    def rasa_model_file(self) -> Path:
        """The model the Rasa server serves."""
        return self.rasa_models_dir / "assistant.tar.gz"

    @property
    def catalog_index_dir(self) -> Path:
        """The product search index and its manifest."""
        return self.models_dir / "catalog"

    @property
    def recommender_file(self) -> Path:
        """The served recommender models (one file, replaced atomically by `python -m recommender train`)."""
        return self.models_dir / "recommender" / "bundle.pkl"

    @property
    def action_server_url(self) -> str:
        """Where the Rasa server calls custom actions."""
        return f"http://{self.host}:{self.action_port}/webhook"

    @property
    def rasa_url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        """Base URL of the web pages (widget demo)."""
        return f"http://{self.host}:{self.web_port}"

    @property
    def console_url(self) -> str:
        """Base URL of the staff console."""
        return f"http://{self.host}:{self.console_port}"


def _origins(values: Mapping[str, str], key: str) -> tuple[str, ...]:
    """Comma-separated origins, each scheme://host[:port] exactly as a browser sends it (no path, no wildcard)."""
    origins = []
    for raw in values.get(key, "").split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        scheme, sep, rest = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or any(ch in rest for ch in "/*?# "):
            raise SettingsError(f"{key} must list origins like https://shop.example.com, got {raw.strip()!r}")
        origins.append(origin)
    return tuple(origins)


def read_or_create_secret(path: Path) -> str:
    """The secret kept in `path`, generated (random, readable by the owner only) when missing."""
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    # created readable by the owner only, before the secret is in it
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return secret


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment, falling back to the settings file, then to defaults."""
    env = dict(os.environ if environ is None else environ)
    settings_file = Path(env.get(SETTINGS_FILE_VARIABLE) or DEFAULT_SETTINGS_FILE)
    values: dict[str, str] = {}
    if settings_file.is_file():
        values.update(read_settings_file(settings_file))
    elif env.get(SETTINGS_FILE_VARIABLE):
        raise SettingsError(f"{SETTINGS_FILE_VARIABLE} points to {settings_file}, which does not exist")
    values.update({k: v for k, v in env.items() if v != ""})

    data_dir = _path(values, "SHOP_DATA_DIR", PROJECT_ROOT / "var")
    log_level = values.get("SHOP_LOG_LEVEL", "INFO").upper()
    try:
        social = read_social_channels(values)
    except ChannelSettingsError as error:
        raise SettingsError(str(error)) from None
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"SHOP_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    return Settings(
        data_dir=data_dir,
        models_dir=_path(values, "SHOP_MODELS_DIR", PROJECT_ROOT / "models"),
        reports_dir=_path(values, "SHOP_REPORTS_DIR", PROJECT_ROOT / "reports"),
        host=values.get("SHOP_HOST", "127.0.0.1"),
        rasa_port=_port(values, "RASA_PORT", 5005),
        action_port=_port(values, "ACTION_PORT", 5055),
        web_port=_port(values, "WEB_PORT", 8080),
        console_port=_port(values, "CONSOLE_PORT", 8090),
        rasa_auth_token=values.get("RASA_AUTH_TOKEN") or None,
        # signs the customer tokens the shop's site gives the web widget (see store/identity.py)
        identity_secret=values.get("SHOP_IDENTITY_SECRET") or None,
        endpoints_file=_path(values, "RASA_ENDPOINTS_FILE", PROJECT_ROOT / "endpoints.yml"),
        credentials_file=_path(values, "RASA_CREDENTIALS_FILE", PROJECT_ROOT / "credentials.yml"),
        log_level=log_level,
        # SQLAlchemy URLs; PostgreSQL as postgresql://user:password@host:port/db (psycopg 3 is used)
        shop_database_url=values.get("SHOP_DATABASE_URL") or f"sqlite:///{data_dir / 'shop.db'}",
        # where Rasa keeps conversations, for privacy operations (erasure, retention)
        tracker_database_url=values.get("TRACKER_DATABASE_URL") or f"sqlite:///{data_dir / 'tracker.db'}",
        # the shop's own site: product links in chat are {shop_url}/products/{product id}
        shop_url=_url(values, "SHOP_URL", "https://shop.example.com"),
        # seconds Rasa waits for a custom action before it apologises to the customer (bot/action_guard.py)
        action_timeout=_seconds(values, "SHOP_ACTION_TIMEOUT", 10.0),
        # the shop's pages that may open the chat (socket.io, session tokens, CSAT); default: the demo page
        widget_origins=_origins(values, "SHOP_ALLOWED_ORIGINS"),
        # signs the chat's session tokens (widget/session_token.py)
        widget_secret=values.get("SHOP_WIDGET_SECRET") or None,
        social=social,
    )
