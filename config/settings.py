"""One validated settings object for the whole project (env prefix ``INCONTRO_``)."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_PLACEHOLDERS = {"", "change-me", "changeme", "secret", "password", "demo"}


class Settings(BaseSettings):
    """Every tunable of Incontro; read once through :func:`get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="INCONTRO_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # secrets may also be files named like the setting (database_url, smtp_password, ...)
        secrets_dir=os.environ.get("INCONTRO_SECRETS_DIR") or None,
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
                if value is None or value.get_secret_value().strip().lower() in _PLACEHOLDERS:
                    raise ValueError(f"INCONTRO_{name.upper()} must be set to a real secret in production")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
