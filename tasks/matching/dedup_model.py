"""Fellegi–Sunter evidence for duplicate referrals (issue 21, docs/ARCHITECTURE.md#matching).

Each candidate pair is compared field by field; each comparison lands on a *level* (names
identical, written differently, one name more on one side, …). A level has two probabilities:
``m`` (how often two referrals of the same person land there) and ``u`` (how often two
different people do). The pair's match weight is the sum of ``log2(m/u)`` over the fields plus
the prior; a missing field weighs nothing. As in Splink, ``u`` is measured on random pairs and
``m`` is trained by expectation-maximisation on the unlabelled candidate pairs of the blocking,
so no labelled data is needed; the trained values live in ``config/dedup_model.yaml``.

Names are compared word by word, in any order (:mod:`tasks.matching.dedup_names`).

The comune of residence is compared as resolved (ISTAT code): another comune, none, the same
city written on many referrals, the same comune. Siblings and a parent and child share it, so
the rules of :mod:`tasks.matching.dedup` let it count only where a birth date is missing.

Everything here is pure; numpy is imported by the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MODEL_PATH = Path(__file__).resolve().parents[2] / "config" / "dedup_model.yaml"

#: Comparison name -> Italian label of each level (index = level). Level 1 of every
#: field but the names is "missing on one side": it weighs nothing.
LEVELS: dict[str, tuple[str, ...]] = {
    "nome": (
        "nomi diversi",
        "un solo nome in comune",
        "nomi simili ma non uguali",
        "nomi compatibili (un nome in più o troncato da una parte)",
        "stessi nomi scritti in modo diverso",
        "stessi nomi",
    ),
    "data di nascita": (
        "date di nascita diverse",
        "data di nascita mancante",
        "data di nascita quasi uguale (giorno e mese scambiati o una cifra sbagliata)",
        "stessa data di nascita, ma il 1° gennaio (data convenzionale)",
        "stessa data di nascita",
        "stesso anno di nascita, il 1° gennaio da una parte (giorno ignoto)",
        "stesso giorno e mese di nascita, anno con una cifra sbagliata o due cifre invertite",
    ),
    "codice fiscale": (
        "codici fiscali diversi",
        "codice fiscale mancante",
        "codice fiscale quasi uguale (errore di battitura)",
        "stesso codice fiscale",
    ),
    "telefono": (
        "telefoni diversi",
        "telefono mancante",
        "stesso telefono, ma scritto in molte segnalazioni",
        "stesso telefono",
    ),
    "e-mail": (
        "e-mail diverse",
        "e-mail mancante",
        "stessa e-mail, ma scritta in molte segnalazioni",
        "stessa e-mail",
    ),
    "comune": (
        "comuni di residenza diversi",
        "comune di residenza mancante o non riconosciuto",
        "stesso comune di residenza, tra i più frequenti",
        "stesso comune di residenza",
    ),
}
FIELDS = tuple(LEVELS)
NAME, BIRTH, CF, PHONE, EMAIL, PLACE = range(6)
MISSING = 1  # the level of a field empty on either side (not for names)
SHARED_CONTACT = 4  # a phone / e-mail on this many referrals of different names is not personal
#: A comune written on at least this share of the referrals is a city: sharing it says less.
COMMON_PLACE = 0.05


# --- other fields ----------------------------------------------------------------------------------


JAN1_OTHER = 5  # the level of 1 January on one side and another day of the same year
YEAR_TYPO = 6  # the same day and month, the year one keystroke away (1973 / 1937)


def birth_level(a: date | None, b: date | None) -> int:
    """Level of two birth dates (labels in ``LEVELS["data di nascita"]``)."""
    if a is None or b is None:
        return MISSING
    if a == b:
        return 3 if (a.month, a.day) == (1, 1) else 4
    if a.year == b.year and ((a.month, a.day) == (1, 1)) != ((b.month, b.day) == (1, 1)):
        return JAN1_OTHER
    if a.year != b.year:
        return YEAR_TYPO if birth_dates_compatible(a, b) else 0
    return 2 if birth_dates_compatible(a, b) else 0


def birth_dates_compatible(a: date | None, b: date | None) -> bool:
    """Equal, missing, day and month swapped, one digit of the day or month mistyped, one
    digit of the year mistyped or its last two swapped (the same day and month: 1973 / 1937),
    or 1 January – the registries' placeholder for an unknown day – and another day of the
    same year. Never a typo on 1 January itself: namesakes share it."""
    if a is None or b is None or a == b:
        return True
    jan1 = (a.month, a.day) == (1, 1) or (b.month, b.day) == (1, 1)
    if a.year != b.year:
        return not jan1 and (a.month, a.day) == (b.month, b.day) and year_typo(a.year, b.year)
    if jan1 or (a.month, a.day) == (b.day, b.month):
        return True
    sa, sb = a.strftime("%d%m"), b.strftime("%d%m")
    return sum(x != y for x, y in zip(sa, sb, strict=True)) == 1


def year_typo(a: int, b: int) -> bool:
    """Two years one keystroke apart: one digit different, or the last two swapped."""
    sa, sb = f"{a:04d}", f"{b:04d}"
    if sum(x != y for x, y in zip(sa, sb, strict=True)) == 1:
        return True
    return sa[:2] == sb[:2] and sa[2:] == sb[3] + sb[2]


_OMOCODE = str.maketrans("LMNPQRSTUV", "0123456789")
_CF_MONTHS = "ABCDEHLMPRST"


def cf_birth_date(code: str | None, today_year: int) -> date | None:
    """The birth date a valid 16-character codice fiscale encodes (None when it does not)."""
    if not code or len(code) != 16:
        return None
    yy, month, dd = code[6:8].translate(_OMOCODE), code[8], code[9:11].translate(_OMOCODE)
    if not (yy.isdigit() and dd.isdigit()) or month not in _CF_MONTHS:
        return None
    year = 2000 + int(yy)
    if year > today_year:
        year -= 100
    try:
        return date(year, _CF_MONTHS.index(month) + 1, int(dd) % 40)
    except ValueError:
        return None


# --- the model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FSModel:
    """Trained Fellegi–Sunter parameters: ``m`` and ``u`` per field and level, the prior."""

    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    prior: float  # share of candidate pairs that are duplicates (EM's lambda, training only)
    per_record: float = 0.4  # duplicate pairs per record: the prior of a random pair is 2x/N

    def weights(self) -> list[list[float]]:
        """log2(m/u) per field and level; a missing field weighs 0."""
        out = []
        for f, (mf, uf) in enumerate(zip(self.m, self.u, strict=True)):
            row = [math.log2(max(m, 1e-6) / max(u, 1e-9)) for m, u in zip(mf, uf, strict=True)]
            if f != NAME:
                row[MISSING] = 0.0
            out.append(row)
        return out

    def prior_weight(self, records: int | None = None) -> float:
        """log2 prior odds that two records are one person: among ``records`` referrals, each
        has about ``per_record`` duplicates among ``records - 1`` others (``u`` is measured on
        random pairs, so the prior must be a random pair's too: a name and a birth date say
        less in a city than in a village). Without ``records``, the training prior."""
        if records is None:
            lam = self.prior
        else:
            lam = min(0.5, 2 * self.per_record / max(records - 1, 1))
        return math.log2(lam / (1 - lam))

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": round(self.prior, 6),
            "per_record": round(self.per_record, 4),
            "fields": {
                name: {
                    "m": [round(x, 6) for x in self.m[f]],
                    "u": [round(x, 8) for x in self.u[f]],
                }
                for f, name in enumerate(FIELDS)
            },
        }


def model_from_dict(data: dict[str, Any]) -> FSModel:
    """The model from its YAML shape (``to_dict``); refuses a file with other fields or levels."""
    fields = data["fields"]
    if tuple(fields) != FIELDS:
        raise ValueError(f"dedup_model: campi {list(fields)} invece di {list(FIELDS)}")
    for name in FIELDS:
        for part in ("m", "u"):
            if len(fields[name][part]) != len(LEVELS[name]):
                raise ValueError(f"dedup_model: {name}.{part} deve avere {len(LEVELS[name])} valori")
    return FSModel(
        m=tuple(tuple(float(x) for x in fields[n]["m"]) for n in FIELDS),
        u=tuple(tuple(float(x) for x in fields[n]["u"]) for n in FIELDS),
        prior=float(data["prior"]),
        per_record=float(data.get("per_record", 0.4)),
    )


@cache
def load_model(path: Path = MODEL_PATH) -> FSModel:
    """The trained model shipped in ``config/dedup_model.yaml``."""
    import yaml

    return model_from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def match_weights(model: FSModel, levels: NDArray[np.int8], records: int | None = None) -> NDArray[np.float64]:
    """Match weight (log2 Bayes factor + prior) of each row of comparison levels."""
    import numpy as np

    total = np.full(len(levels), model.prior_weight(records))
    for f, row in enumerate(model.weights()):
        total += np.asarray(row)[levels[:, f]]
    return total


def probability(weight: NDArray[np.float64]) -> NDArray[np.float64]:
    import numpy as np

    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))


def explain(model: FSModel, levels: Sequence[int]) -> str:
    """Which fields agreed and how much each weighed, in Italian."""
    weights = model.weights()
    parts = []
    for f, name in enumerate(FIELDS):
        w = weights[f][levels[f]]
        parts.append(f"{LEVELS[name][levels[f]]} ({w:+.1f})")
    return "; ".join(parts)


# --- training (EM, as Splink does) ---------------------------------------------------------------


def estimate_u(random_levels: NDArray[np.int8]) -> tuple[tuple[float, ...], ...]:
    """``u`` per field and level from random pairs (nearly all of different people)."""
    import numpy as np

    out = []
    for f, name in enumerate(FIELDS):
        counts = np.bincount(random_levels[:, f], minlength=len(LEVELS[name])).astype(float) + 0.5
        out.append(tuple((counts / counts.sum()).tolist()))
    return tuple(out)


def train(
    sessions: Sequence[tuple[NDArray[np.int8], int]],
    u: tuple[tuple[float, ...], ...],
    *,
    iterations: int = 25,
    all_pairs: NDArray[np.int8] | None = None,
    records: int = 0,
) -> FSModel:
    """``m`` by expectation-maximisation, ``u`` fixed (random pairs), as Splink trains.

    Each session is the candidate pairs of one blocking rule and the field that rule blocked
    on: inside a block that field agrees by construction, so it is left out of that session
    and its ``m`` comes from the other sessions (an ``m`` learnt where it is forced to agree
    would make every blocked pair look like a duplicate). The prior is the share of duplicates
    among all candidate pairs, from the last E-step of each session; with ``all_pairs`` (the
    levels of every blocked pair of ``records`` referrals) the expected duplicates per record.
    """
    import numpy as np

    start = []
    for name in FIELDS:
        n = len(LEVELS[name])
        ramp = np.linspace(0.2, 2.0, n) ** 3  # higher levels are likelier for duplicates
        start.append(ramp / ramp.sum())
    learnt: list[list[NDArray[np.float64]]] = [[] for _ in FIELDS]
    shares = []
    for levels, blocked_on in sessions:
        m = [x.copy() for x in start]
        prior = 0.05
        for _ in range(iterations):
            model = FSModel(m=tuple(tuple(x.tolist()) for x in m), u=u, prior=prior)
            weight = match_weights(model, levels)
            weight -= np.asarray(model.weights()[blocked_on])[levels[:, blocked_on]]
            p = probability(weight)
            for f, name in enumerate(FIELDS):
                if f != blocked_on:
                    sums = np.bincount(levels[:, f], weights=p, minlength=len(LEVELS[name])) + 1e-3
                    m[f] = sums / sums.sum()
            prior = float(np.clip(p.mean(), 1e-4, 0.5))
        for f in range(len(FIELDS)):
            if f != blocked_on:
                learnt[f].append(m[f])
        shares.append((prior, len(levels)))
    final = tuple(tuple(np.mean(x, axis=0).tolist()) if x else tuple(start[f].tolist()) for f, x in enumerate(learnt))
    prior = sum(s * n for s, n in shares) / max(sum(n for _, n in shares), 1)
    model = FSModel(m=final, u=u, prior=float(prior))
    if all_pairs is not None and records:
        for _ in range(iterations):  # EM on the random-pair prior alone, m and u now fixed
            expected = float(probability(match_weights(model, all_pairs, records)).sum())
            model = FSModel(m=final, u=u, prior=float(prior), per_record=max(expected / records, 1e-3))
    return model
