"""Name keys, transliteration and contact normalisation (docs/ARCHITECTURE.md#matching)."""

from __future__ import annotations

import pytest

from tasks.files.normalize import (
    full_name_tokens,
    name_key,
    normalize_cf,
    normalize_email,
    normalize_name,
    normalize_phone,
)

# Each group is one name written the ways referrers and passports write it.
SAME_NAME = [
    ["Олександр", "Oleksandr", "Olexandr", "Aleksandr", "Alexander", "Александр", "Alexandr"],
    ["Сергій", "Serhii", "Sergii", "Sergey", "Sergiy", "Сергей", "Sergei", "Serhiy"],
    ["Юлія", "Yuliia", "Yulia", "Iuliia", "Julia", "Юлия", "Yuliya"],
    ["Дмитро", "Dmytro", "Dmitry", "Dmitriy", "Дмитрий", "Dmitrii"],
    ["Андрій", "Andrii", "Andriy", "Andrey", "Andrij", "Андрей"],
    ["Микола", "Mykola", "Nikolay", "Николай", "Nikolai"],
    ["Катерина", "Kateryna", "Ekaterina", "Katerina", "Екатерина"],
    ["Тетяна", "Tetiana", "Tatiana", "Tatyana", "Татьяна", "Tetyana"],
    ["Харків", "Kharkiv", "Kharkov", "Харьков"],
    ["Mohamed", "Mohammed", "Muhammad", "Mohammad", "MOHAMED"],
    ["Yusuf", "Youssef", "Yousef"],
    ["Ольга", "Olha", "Olga"],
    ["Євген", "Yevhen", "Evgeny", "Ievgen"],
    ["Ганна", "Hanna", "Ganna"],
    ["Шевченко", "Shevchenko", "Ševčenko"],
    ["Коваленко", "Kovalenko"],
]


@pytest.mark.parametrize("group", SAME_NAME, ids=lambda g: g[1])
def test_transliteration_variants_meet(group: list[str]) -> None:
    keys = {name_key(v) for v in group}
    assert len(keys) == 1, {v: name_key(v) for v in group}


DIFFERENT = [
    ("Maria", "Mario"),
    ("Ivan", "Ivana"),
    ("Daniel", "Daniela"),
    ("Anna", "Anne"),
    ("Sergio", "Sergii"),
    ("Alessandro", "Aleksandr"),
    ("Olena", "Olga"),
    ("Marco", "Mario"),
    ("Yana", "Anna"),
    ("Kovalenko", "Kovalchuk"),
    ("Petrov", "Petrenko"),
    ("Oleh", "Olha"),
    ("Iryna", "Irina Petrova"),
    ("Ali", "Alina"),
    ("Dmytro", "Petro"),
    ("Mykola", "Mykhailo"),
    ("Andrii", "Andrea"),
    ("Yuliia", "Yuliana"),
    ("Tetiana", "Tamara"),
    ("Rossi", "Russo"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_names_stay_apart(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Олександр", "oleksandr"),
        ("Сергій", "serhii"),
        ("Юлія", "yuliia"),
        ("Щербак", "shcherbak"),
        ("Їжакевич", "yizhakevych"),
        ("Київ", "kyiv"),
        ("Єнакієве", "yenakiieve"),
        ("Йосип", "yosyp"),
        ("Андрій", "andrii"),
        ("Згорани", "zghorany"),
        ("Ґалаґан", "galagan"),
        ("Мар'яна", "mariana"),
        ("Сергей Лысенко", "sergey lysenko"),
        ("Эдуард", "eduard"),
        ("  D'Angelo-Rossi  ", "d angelo rossi"),
        ("Nicolò  Müller", "nicolo muller"),
        ("Łukasz Wałęsa", "lukasz walesa"),
        ("J. R. R.", "j r r"),
        ("", ""),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_name_key_keeps_word_order_and_full_tokens() -> None:
    assert name_key("Kovalenko Oleksandr") == "kovalenko aleksandr"
    assert full_name_tokens("Коваленко", "Олександр Петрович") == [
        "kovalenko",
        "aleksandr",
        "petrovic",
    ]
    assert full_name_tokens(None, "Yulia") == ["iulia"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0039 333 1234567", "+393331234567"),
        ("333-1234567", "+393331234567"),
        ("+39 333 123 4567", "+393331234567"),
        ("035 123456", "+39035123456"),
        ("+380 67 123 4567", "+380671234567"),
        ("00380671234567", "+380671234567"),
        ("12", None),
        ("not a phone", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_phone(raw: str | None, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mario.Rossi@Example.COM", "mario.rossi@example.com"),
        ("  olena@ukr.net ", "olena@ukr.net"),
        ("no-at-sign.example.com", None),
        ("a@b", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_email(raw: str | None, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("rssmra85t10a562s", "RSSMRA85T10A562S"),
        ("RSS MRA 85T10 A562S", "RSSMRA85T10A562S"),
        ("RSSMRA85T10A562X", None),  # wrong check character
        ("12345678903", "12345678903"),  # temporary numeric code
        ("12345678901", None),  # ... with a wrong check digit
        ("1234567890", None),
        ("RSSMRA85T10A562", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_cf(raw: str | None, expected: str | None) -> None:
    assert normalize_cf(raw) == expected


def test_codice_fiscale_check_agrees_with_the_official_library() -> None:
    """The fast validator (dedup validates every code) accepts exactly what the library does."""
    import random

    from codicefiscale import codicefiscale

    rng = random.Random(5)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    seeds = ["RSSMRA85T10A562S", "RSSMRA85T10A794D", "KVLLSN88C14Z138W", "BNCLRA90A41F205Y"]
    seeds = [s for s in seeds if codicefiscale.is_valid(s)]
    assert len(seeds) >= 3
    for seed in seeds:
        for _ in range(150):
            chars = list(seed)
            chars[rng.randrange(16)] = rng.choice(alphabet)
            code = "".join(chars)
            assert (normalize_cf(code) is not None) == codicefiscale.is_valid(code), code
