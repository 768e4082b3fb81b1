"""What the portal's pages share (the companies' answer page, the partners' and companies' pages,
the desk): the refusal page, the template environment, the form reader and the POST guards.

One copy so that a fix to a guard (form size, rate limit, form token) reaches every page.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from fastapi.responses import Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from config.settings import get_settings
from tasks.mail.formatting import format_datetime_long
from tasks.mail.links import check_csrf

#: The portal's own templates, where the shared layout (``_layout.html``) lives.
TEMPLATES = Path(__file__).resolve().parent / "templates"
FORM_TOKEN_TTL = 7200


class PortalRefusal(Exception):
    """A request the portal answers with an explanatory page; nothing is written."""

    def __init__(self, status_code: int, title: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message, self.headers = status_code, title, message, headers or {}


class RateLimiter:
    """Sliding-window counter per key, in memory (one portal process; a proxy limits globally)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request; return the seconds to wait when ``key`` is over its limit."""
        now = self.clock()
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle keys so a flood of addresses cannot grow memory
                self._hits = {k: q for k, q in self._hits.items() if q and q[-1] > now - self.window}
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - now)
            hits.append(now)
            return None


def environment(templates: Path) -> Environment:
    """Autoescaped, strict templates from ``templates``, then the portal's (the shared layout);
    ``when`` writes a moment in Italian."""
    dirs = [templates] if templates == TEMPLATES else [templates, TEMPLATES]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dirs]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
    )
    env.filters["when"] = lambda value: format_datetime_long(value) if isinstance(value, datetime) else ""
    return env


def secure_cookies() -> bool:
    """Cookies get ``Secure`` when the portal is served over https."""
    return urlsplit(get_settings().portal_base_url).scheme == "https"


def set_form_cookie(response: Response, name: str, nonce: str, *, secure: bool, path: str) -> None:
    """The SameSite cookie half of the form token (CSRF)."""
    response.set_cookie(name, nonce, httponly=True, samesite="strict", secure=secure, path=path, max_age=FORM_TOKEN_TTL)


def stylesheet(path: Path) -> Response:
    """A page's CSS file, cacheable for an hour."""
    css = path.read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@dataclass(frozen=True)
class FormWords:
    """How a page names what is sent (in its refusals) and how to send it again."""

    wrong_type: str
    too_long: str
    unreadable: str
    repeated: str


async def form_fields(
    request: Request,
    *,
    max_bytes: int,
    max_fields: int,
    words: FormWords,
    strip: bool = True,
    refusal: type[PortalRefusal] = PortalRefusal,
) -> dict[str, str]:
    """The url-encoded form, size-capped; a repeated field is refused rather than guessed."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise refusal(415, "Modulo non valido", words.wrong_type)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise refusal(413, "Modulo non valido", words.too_long)
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError):
        raise refusal(400, "Modulo non valido", words.unreadable) from None
    if any(len(values) != 1 for values in parsed.values()):
        raise refusal(400, "Modulo non valido", words.repeated)
    return {name: values[0].strip() if strip else values[0] for name, values in parsed.items()}


def client_key(request: Request) -> str:
    """The rate-limit key of the client address."""
    return f"ip:{request.client.host if request.client else 'unknown'}"


def check_rate(
    limiter: RateLimiter,
    keys: Iterable[str],
    *,
    title: str,
    too_many: str,
    refusal: type[PortalRefusal] = PortalRefusal,
) -> None:
    """Count one POST for every key; refuse (429, with Retry-After) when one is over its limit.
    ``too_many`` names what was sent, as in "Avete inviato troppe risposte"."""
    for key in keys:
        wait = limiter.hit(key)
        if wait is not None:
            raise refusal(
                429,
                title,
                f"Avete inviato {too_many} in poco tempo. Riprovate tra {int(wait) + 1} secondi.",
                headers={"Retry-After": str(int(wait) + 1)},
            )


def check_form_token(
    token: str,
    request: Request,
    cookie: str,
    form: dict[str, str],
    *,
    now: float,
    then: str,
    refusal: type[PortalRefusal] = PortalRefusal,
) -> None:
    """Refuse (403) a POST whose form token does not match the link and the cookie; ``then``
    tells the person how to send it again."""
    if not check_csrf(token, request.cookies.get(cookie), form.get("csrf"), now=now):
        raise refusal(
            403,
            "Modulo scaduto",
            "Il modulo non è più valido (è rimasto aperto troppo a lungo oppure il browser non accetta i "
            f"cookie tecnici). {then}",
        )
