"""Skills and languages in the intake form (issue 18): closed lists of config/ (config/skills.yaml,
config/languages.yaml) shown by their Italian words and stored by their codes, as Prefect saves
the form; answers by code (the demo, scripts, ``incontro answer``) or by words are kept as codes,
anything else is refused; the lists agree with the intake's own check, and no language is listed
as a bare name that is also a surname."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models.form_choices import CODES, answer_in_words
from models.forms import IntakeForm, IntakeResult
from tasks.matching.skills import intake_lists
from tests.unit.test_form_labels import _intake_row, _server_accepts, saved_schema


def _intake_list(name: str) -> dict[str, Any]:
    return saved_schema("IntakeForm")["$defs"]["IntakeResult"]["properties"][name]


def test_the_intake_form_lists_skills_and_languages_by_their_italian_words() -> None:
    from config.skills import load_skills
    from models.forms import LANGUAGE_CODE, SKILL_CODE

    lists = intake_lists()
    skills, languages = _intake_list("skills"), _intake_list("languages")
    assert skills["type"] == languages["type"] == "array" and skills["maxItems"] == 30
    assert skills["items"]["enum"] == list(lists["skills"].values())
    assert skills["items"][CODES] == list(lists["skills"])
    assert languages["items"]["enum"] == list(lists["languages"].values())
    assert not [w for w in skills["items"]["enum"] if re.fullmatch(SKILL_CODE, w)]
    assert not [w for w in languages["items"]["enum"] if re.fullmatch(LANGUAGE_CODE, w)]
    catalogue = load_skills()
    assert lists["skills"]["saldatura.tig"] == catalogue.label("saldatura.tig") == "Saldatura TIG"
    assert {c for c in lists["skills"]} == {s.code for s in catalogue.skills if s.area != "lingua"}
    assert set(lists["languages"]) == set(catalogue.languages())  # the languages matching knows, all of them
    assert lists["languages"]["ru"] == "lingua russa" and lists["languages"]["en"] == "lingua inglese"
    (row, _) = saved_schema("IntakeForm")["properties"]["results"]["default"]
    assert (row["skills"], row["languages"]) == (["Saldatura TIG"], ["lingua ucraina", "lingua russa"])


def test_a_language_is_never_listed_as_a_bare_name() -> None:
    """Prefect stores the form's schema, and Russo, Greco, Inglese, Tedesco are also surnames:
    every language reads "lingua ..." in lower case."""
    words = _intake_list("languages")["items"]["enum"]
    assert len(words) >= 30
    assert all(w.startswith("lingua ") and w == w.lower() for w in words), words
    assert not {"Russo", "Greco", "Inglese", "Tedesco", "russo", "inglese", "tedesco"} & set(words)


def _name_words() -> set[str]:
    """Every word (3 letters or more) of every name the demo can give its people."""
    import demo.synthetic.names as names

    def strings(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, tuple | list):
            origin = len(value) == 5 and isinstance(value[0], float)  # (weight, male, female, surnames, languages)
            for v in value[1:4] if origin else value:
                yield from strings(v)

    found = (s for k, v in vars(names).items() if k.isupper() and k != "IT_BIRTHPLACES" for s in strings(v))
    return {w.casefold() for text in found for w in re.findall(r"\w+", text) if len(w) >= 3}


def test_the_lists_share_no_word_with_the_names_of_the_demo_people() -> None:
    """The PII scan of everything Prefect keeps (tests/pii_scan.py) looks for every word of every
    name, whole: the lists in the saved schema must not read as one (articles aside)."""
    from config.skills import load_skills

    listed = [*_intake_list("skills")["items"]["enum"], *_intake_list("languages")["items"]["enum"]]
    words = {w.casefold() for text in listed for w in re.findall(r"\w+", text)} - load_skills().dropped
    names = _name_words()
    assert {"russo", "khan", "olena"} <= names  # the collection reads the demo's names
    assert words & names == set()


@pytest.mark.parametrize(
    ("skills", "languages"),
    [
        (["saldatura.tig", "ristorazione.haccp"], ["uk", "ar"]),  # by code, as the demo and scripts answer
        (
            ["saldatura  tig", "HACCP (igiene e sicurezza alimentare)"],
            ["lingua ucraina", "LINGUA ARABA (anche dialetti)"],
        ),
    ],
)
def test_skills_and_languages_answered_by_code_or_words_are_stored_as_codes(
    skills: list[str], languages: list[str]
) -> None:
    from tasks.matching.skills import form_problems

    schema = saved_schema("IntakeForm")
    answer = {"results": [_intake_row(skills=skills, languages=languages)]}
    sent = answer_in_words(schema, answer)
    assert sent["results"][0]["skills"] == ["Saldatura TIG", "HACCP (igiene e sicurezza alimentare)"]
    assert sent["results"][0]["languages"] == ["lingua ucraina", "lingua araba (anche dialetti)"]
    assert _server_accepts(schema, sent)
    form = IntakeForm.listing(**intake_lists())
    (read,) = form.model_validate(sent).results
    stored = read.model_dump(mode="json")
    assert (stored["skills"], stored["languages"]) == (["saldatura.tig", "ristorazione.haccp"], ["uk", "ar"])
    assert form_problems(stored["skills"], stored["languages"]) == []  # tasks/intake.py: validate_intake
    assert IntakeResult.model_validate(stored).skills == stored["skills"]  # the flow's check, on codes


@pytest.mark.parametrize("typed", ["Olena Kovalenko", "olena.k@mail.example", "Russo", "saldatura.inventata", "xx"])
def test_anything_but_a_listed_skill_or_language_is_refused_by_the_server_and_in_process(typed: str) -> None:
    from pydantic import ValidationError

    schema = saved_schema("IntakeForm")
    form = IntakeForm.listing(**intake_lists())
    for field in ("skills", "languages"):
        answer = answer_in_words(schema, {"results": [_intake_row(**{field: [typed]})]})
        assert not _server_accepts(schema, answer), (field, typed)
        with pytest.raises(ValidationError):
            form.model_validate(answer)


def test_every_listed_skill_and_language_is_one_the_intake_check_accepts() -> None:
    """The lists and tasks/intake.py's check (tasks/matching/skills.py: form_problems) agree."""
    from tasks.matching.skills import form_problems

    lists = intake_lists()
    assert form_problems(list(lists["skills"]), list(lists["languages"])) == []


def _languages_file(tmp_path: Path, entries: dict[str, str]) -> Path:
    import yaml

    path = tmp_path / "languages.yaml"
    path.write_text(yaml.safe_dump({"version": "test", "languages": entries}, allow_unicode=True), encoding="utf-8")
    return path


def test_the_languages_file_is_checked_against_the_skills_list(tmp_path: Path) -> None:
    from config.data import ConfigError
    from tasks.matching.skills import LANGUAGES_FILE, language_words

    good = language_words()
    assert language_words(LANGUAGES_FILE) == good
    broken = {
        "missing": {k: v for k, v in good.items() if k != "ti"},
        "unknown": {**good, "xx": "lingua inventata"},
        "bare name": {**good, "ru": "Russo"},
        "capitalised": {**good, "de": "lingua Tedesca"},
        "twice": {**good, "ro": "lingua russa"},
    }
    for why, entries in broken.items():
        with pytest.raises(ConfigError, match=r"languages\.yaml"):
            language_words(_languages_file(tmp_path, entries))
            pytest.fail(why)


def test_two_skills_whose_labels_read_the_same_are_told_apart_by_their_area() -> None:
    from config.skills import SkillCatalogue
    from tasks.matching.skills import skill_words

    def entry(code: str, it: str) -> dict[str, str]:
        return {"code": code, "it": it, "en": it, "uk": it}

    catalogue = SkillCatalogue.model_validate(
        {
            "version": "t",
            "areas": {"pulizie": "Pulizie e sanificazione", "ristorazione": "Cucina, sala e alberghi", "lingua": "L"},
            "stopwords": {"it": [], "en": [], "uk": []},
            "skills": [
                entry("pulizie.sanificazione", "Sanificazione"),
                entry("ristorazione.sanificazione", "sanificazione "),
                entry("ristorazione.haccp", "HACCP"),
                entry("lingua.en", "Inglese"),
            ],
        }
    )
    assert skill_words(catalogue) == {
        "ristorazione.haccp": "HACCP",
        "ristorazione.sanificazione": "sanificazione (cucina, sala e alberghi)",
        "pulizie.sanificazione": "Sanificazione (pulizie e sanificazione)",
    }
