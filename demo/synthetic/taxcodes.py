"""Tax codes (codici fiscali) for synthetic people: the project's one generator.

The demo people, the dedup evaluation sets, the import test corpus, the import benchmark and the
property tests all draw their codes from :func:`tax_code`. It is built on python-codicefiscale's
public encoders, never on ``tasks.files.normalize``, so tests that feed these codes to our
validator do not check the validator against itself.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime
from typing import Literal

from codicefiscale import codicefiscale as _cf

__all__ = ["corrupt_check_char", "omocode", "tax_code", "temporary_tax_code"]

_BELFIORE = re.compile(r"[A-Z][0-9]{3}")


def tax_code(family: str, given: str, sex: str, birth: date, place: str) -> str:
    """The 16-character codice fiscale of a person born in ``place`` ("Bergamo", "Ucraina", or "Z138").

    A place name is looked up in the library's tables as of the birth date and the whole code is
    checked by decoding it again, as ``codicefiscale.encode`` does (about 1.5 ms). A Belfiore code
    is used as given, skipping both lookups (about 40 µs): the dedup evaluation sets draw tens of
    thousands of codes with the Agenzia's country codes. Raises ``ValueError`` for an unknown place.
    """
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', not {sex!r}")
    gender: Literal["M", "F"] = "M" if sex == "M" else "F"
    born = datetime(birth.year, birth.month, birth.day)  # noqa: DTZ001 - a calendar date
    if not _BELFIORE.fullmatch(place):
        return str(_cf.encode(lastname=family, firstname=given, gender=gender, birthdate=born, birthplace=place))
    body = _cf.encode_lastname(family) + _cf.encode_firstname(given) + _cf.encode_birthdate(born, gender) + place
    return body + _cf.encode_cin(body)


def omocode(code: str, n: int = 1) -> str:
    """The ``n``-th variant of ``code`` with digits turned into letters from the right (omocodia), as the
    Agenzia issues it when two people would share a code; ``n=0`` is the code itself."""
    return str(_cf.decode(code)["omocodes"][n])


def temporary_tax_code(rng: random.Random) -> str:
    """11-digit provisional code as issued on first application (partita-IVA style check digit)."""
    body = [rng.randint(0, 9) for _ in range(7)] + [0, 1, 6]  # 016 = Bergamo office
    total = 0
    for i, d in enumerate(body):
        if i % 2 == 0:
            total += d
        else:
            dd = d * 2
            total += dd - 9 if dd > 9 else dd
    check = (10 - total % 10) % 10
    return "".join(map(str, body)) + str(check)


def corrupt_check_char(code: str) -> str:
    """The same code with a wrong check character (shifted seven letters on)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    last = code[-1]
    return code[:-1] + letters[(letters.index(last) + 7) % 26]
