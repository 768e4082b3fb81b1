"""Typed loader of ``config/privacy_notice.yaml``: the notice read to a person before a partner
refers them on the referral page, and the words of its consent checkboxes.

The version travels with every consent given on the page (``consent.source``), so each consent
says which text the person heard; a file without a version, or with a blank paragraph, fails
loudly naming the file instead of collecting consents nobody can trace.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.data import CONFIG_DIR, ConfigError, _read_yaml

PRIVACY_NOTICE_FILE: Path = CONFIG_DIR / "privacy_notice.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ConsentTexts(_Strict):
    """The checkbox labels: the processing (and updates to the referrer), the profile to Confindustria."""

    privacy: str = Field(min_length=20)
    confindustria: str = Field(min_length=20)


class PrivacyNotice(_Strict):
    """One version of the notice: its id, title, paragraphs and consent texts."""

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    title: str = Field(min_length=5)
    paragraphs: tuple[str, ...] = Field(min_length=1)
    consents: ConsentTexts


def load_privacy_notice(path: Path | None = None) -> PrivacyNotice:
    """The privacy notice (``config/privacy_notice.yaml`` unless ``path``), validated."""
    return _load(path or PRIVACY_NOTICE_FILE)


@lru_cache(maxsize=4)
def _load(path: Path) -> PrivacyNotice:
    data = _read_yaml(path)
    try:
        notice = PrivacyNotice.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if any(not p for p in notice.paragraphs):
        raise ConfigError(f"{path}: paragraphs: un paragrafo è vuoto")
    return notice
