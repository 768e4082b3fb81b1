"""One validated settings object for the whole project (env prefix ``INCONTRO_``)."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_PLACEHOLDERS = {"", "change-me", "changeme", "secret", "password", "demo"}
#: The desk's signing key outside production (refused when INCONTRO_ENVIRONMENT=production).
DESK_DEV_SECRET = "incontro-desk-development-key"  # noqa: S105  (a known default, refused in production)


def _placeholder(secret: str) -> bool:
    """Empty, a guessable word, or still holding secrets.example.env's "change-me" (user:change-me)."""
    value = secret.strip().lower()
    return value in _PLACEHOLDERS or any(word in value for word in ("change-me", "changeme"))


class Settings(BaseSettings):
    """Every tunable of Incontro; read once through :func:`get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="INCONTRO_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # secrets may also be files named like the setting (database_url, smtp_password, ...)
        secrets_dir=os.environ.get("INCONTRO_SECRETS_DIR") or None,
        # an error never quotes its input: that holds every setting, secrets included (issue 22)
        hide_input_in_errors=True,
    )

    environment: str = Field("development", description="development | demo | production")
    var_dir: Path = Field(PROJECT_ROOT / "var", description="Local state: databases, mail, reports")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite under var/")
    db_pool_size: int = 5
    db_max_overflow: int = 10
    province_code: str = "BG"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_timeout: float = 10.0
    mail_from: str = "Incontro al lavoro <noreply@incontro.provincia.bergamo.example>"
    outbox_batch_size: int = 200
    outbox_max_attempts: int = 6
    outbox_outage_alert_after: timedelta = Field(
        timedelta(hours=24),
        ge=timedelta(0),
        description="Alert coordinators once when the SMTP relay stays unreachable this long (seconds or ISO 8601, "
        "e.g. PT24H); an outage never counts against outbox_max_attempts",
    )

    chunk_size: int = Field(500, description="Cases per Prefect task in bulk paths")
    progress_min_items: int = Field(
        200, ge=1, description="Loops over at least this many items publish a progress artifact (runtime/progress)"
    )
    event_fanout_limit: int = Field(
        200, ge=1, description="Above this many case moves in one commit, emit one summary event per state and office"
    )
    portal_base_url: str = "http://127.0.0.1:8088"
    portal_secret: SecretStr | None = None
    retention_days: int = Field(730, ge=1, description="Days after closure before a person is anonymised")
    portal_link_ttl_days: int = Field(30, ge=1, le=365, description="Days an employer's answer link stays valid")
    dispatch_max_profiles: int = Field(
        200, ge=1, le=5000, description="Profiles per batch email to Confindustria; a backlog goes in more batches"
    )
    prefect_auth_string: SecretStr | None = None
    desk_secret_key: SecretStr = Field(
        SecretStr(DESK_DEV_SECRET),
        description="Signs the desk's login-form token (portal/desk); the development default is refused in production",
    )
    desk_idle_minutes: int = Field(30, ge=1, le=720, description="A desk session unused this long signs out")
    desk_session_hours: int = Field(12, ge=1, le=72, description="A desk session ends this long after signing in")
    desk_max_failed_logins: int = Field(
        10, ge=1, description="Failed desk logins per account or address within desk_throttle_minutes before a pause"
    )
    desk_throttle_minutes: int = Field(15, ge=1, description="Window (and pause) of the desk's login throttling")
    prefect_api_url: str = Field(
        "http://127.0.0.1:4200/api",
        description="Prefect server the command line talks to when PREFECT_API_URL is not set (`make serve`)",
    )

    @property
    def resolved_database_url(self) -> str:
        """The app database URL: the configured one or the SQLite file under var/."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'incontro.db'}"

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        """Production must never run on a guessable secret."""
        if self.environment == "production":
            for name in ("portal_secret", "prefect_auth_string"):
                value = getattr(self, name)
                if value is None or _placeholder(value.get_secret_value()):
                    raise ValueError(
                        f"INCONTRO_{name.upper()}: in produzione serve un segreto vero "
                        "(ora è vuoto o un valore d'esempio come «change-me»)"
                    )
            desk_key = self.desk_secret_key.get_secret_value().strip()
            if _placeholder(desk_key) or desk_key == DESK_DEV_SECRET or len(desk_key) < 32:
                raise ValueError(
                    "INCONTRO_DESK_SECRET_KEY: in produzione serve un segreto vero di almeno 32 caratteri "
                    "(ora è vuoto, troppo corto o quello di sviluppo)"
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()


class SettingsError(ValueError):
    """Settings a process must not start with: one Italian line per problem, naming the setting,
    never its value (it may be a secret, and a worker's stderr reaches Prefect's UI)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


_ERROR_TEXT = {
    "missing": "manca",
    "int_parsing": "deve essere un numero intero",
    "float_parsing": "deve essere un numero",
    "bool_parsing": "deve essere true oppure false",
    "greater_than_equal": "è troppo piccolo",
    "greater_than": "è troppo piccolo",
    "less_than_equal": "è troppo grande",
    "less_than": "è troppo grande",
    "time_delta_parsing": "deve essere una durata in secondi o ISO 8601 (es. PT24H)",
}


def describe_errors(exc: ValidationError) -> list[str]:
    """Italian lines for a settings ValidationError: the setting's name and the rule, no value."""
    lines = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        if error["loc"]:
            text = _ERROR_TEXT.get(error["type"], "valore non valido")
            lines.append(f"INCONTRO_{str(error['loc'][0]).upper()}: {text}")
        else:  # the model validators' own messages name the setting, never its value
            lines.append(error["msg"].removeprefix("Value error, "))
    return lines


def production_problems(settings: Settings) -> list[str]:
    """Demo values production refuses: mail in clear text, test addresses, a portal on localhost."""
    if settings.environment != "production":
        return []
    problems = []
    if not (settings.smtp_starttls or settings.smtp_use_tls):
        problems.append(
            "INCONTRO_SMTP_STARTTLS: in produzione la posta parte solo cifrata: impostare "
            "INCONTRO_SMTP_STARTTLS=true (porta 587) oppure INCONTRO_SMTP_USE_TLS=true (porta 465)"
        )
    db_password = urlsplit(settings.database_url or "").password  # none at all: peer or .pgpass auth
    if db_password is not None and _placeholder(db_password):
        problems.append("INCONTRO_DATABASE_URL: la password del database è quella d'esempio")
    smtp_password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    if settings.smtp_username and _placeholder(smtp_password):
        problems.append("INCONTRO_SMTP_PASSWORD: la password del relay SMTP è vuota o quella d'esempio")
    if settings.mail_from.rstrip("> ").lower().endswith(".example"):
        problems.append("INCONTRO_MAIL_FROM: è un indirizzo di prova (.example): indicare il mittente reale")
    if urlsplit(settings.portal_base_url).hostname in {"127.0.0.1", "localhost"}:
        problems.append("INCONTRO_PORTAL_BASE_URL: indicare l'indirizzo pubblico del portale, non questa macchina")
    from config.data import OFFICES_FILE, ORGANISATIONS_FILE, load_offices, load_organisations

    seeds = ((ORGANISATIONS_FILE, load_organisations()), (OFFICES_FILE, load_offices()))
    for path, entries in seeds:
        demo = [entry.code for entry in entries if entry.email.lower().endswith(".example")]
        if demo:
            problems.append(
                f"{path.relative_to(PROJECT_ROOT)}: {len(demo)} indirizzi di prova (.example), es. {demo[0]}: "
                "sostituire il file con gli indirizzi reali (deploy/README.md, sezione 1)"
            )
    return problems


def checked_settings() -> Settings:
    """The settings a process may start with, else :class:`SettingsError` (workers, init job)."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None
    problems = production_problems(settings)
    if problems:
        raise SettingsError(problems)
    return settings
