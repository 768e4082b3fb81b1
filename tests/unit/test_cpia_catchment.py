"""Which CPIA site a person is sent to: the one serving the area where they live (config/cpia.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.cpia import CPIA_FILE, load_cpia_sites
from config.data import ConfigError, load_offices, load_organisations
from models.enums import OrgKind

SITES = load_cpia_sites()


@pytest.mark.parametrize(
    ("comune", "office", "site"),
    [
        # the valleys and the plain: the site of the area, whatever the first CPIA in a list is
        ("Zogno", "CPI-ZOG", "CPIA-ZOG"),
        ("San Pellegrino Terme", "CPI-ZOG", "CPIA-ZOG"),
        ("Sant'Omobono Terme", "CPI-ZOG", "CPIA-ZOG"),
        ("Clusone", "CPI-CLU", "CPIA-CLU"),
        ("Vilminore di Scalve", "CPI-CLU", "CPIA-CLU"),
        ("Lovere", "CPI-LOV", "CPIA-LOV"),
        ("Costa Volpino", "CPI-LOV", "CPIA-LOV"),
        ("Romano di Lombardia", "CPI-ROM", "CPIA-ROM"),
        ("Martinengo", "CPI-ROM", "CPIA-ROM"),
        ("Caravaggio", "CPI-TRV", "CPIA-TRV"),
        ("Sarnico", "CPI-GRU", "CPIA-GRU"),
        ("Casazza", "CPI-TRE", "CPIA-TRE"),
        ("Gazzaniga", "CPI-ALB", "CPIA-ALB"),
        ("Calusco d'Adda", "CPI-PSP", "CPIA-PSP"),
        # the CPI of Bergamo covers three sites: the comune decides
        ("Bergamo", "CPI-BG", "CPIA-BG"),
        ("Dalmine", "CPI-BG", "CPIA-DAL"),
        ("Verdellino", "CPI-BG", "CPIA-DAL"),
        ("Seriate", "CPI-BG", "CPIA-SER"),
        ("Albano Sant'Alessandro", "CPI-BG", "CPIA-SER"),
        # written as people write it
        ("ZOGNO", "CPI-ZOG", "CPIA-ZOG"),
        ("sant omobono terme", "CPI-ZOG", "CPIA-ZOG"),
        ("Romano di lombardia ", "CPI-ROM", "CPIA-ROM"),
    ],
)
def test_the_site_serving_the_comune_of_residence(comune: str, office: str, site: str) -> None:
    found = SITES.site_for(comune, office)
    assert found is not None and found.code == site


def test_the_comune_wins_over_the_office_that_follows_the_case() -> None:
    """Someone living in Clusone but followed by the CPI of Bergamo studies in Clusone."""
    found = SITES.site_for("Clusone", "CPI-BG")
    assert found is not None and found.code == "CPIA-CLU"


def test_an_unknown_comune_falls_back_to_the_office_area_then_to_nobody() -> None:
    by_office = SITES.site_for("Zingonia", "CPI-TRE")  # a locality, not a comune: the case's CPI decides
    assert by_office is not None and by_office.code == "CPIA-TRE"
    assert SITES.site_for("Milano", None) is None  # outside the province, no CPI: the coordinators choose
    assert SITES.site_for(None, None) is None
    assert SITES.site_for("", "CPI-XX") is None


def test_every_comune_of_the_province_has_a_site_and_no_site_is_the_default() -> None:
    served: dict[str, int] = {}
    for office in load_offices():
        for m in office.municipalities:
            site = SITES.site_for(m.name, None)
            assert site is not None, m.name
            served[site.code] = served.get(site.code, 0) + 1
    assert sum(served.values()) == 243
    assert set(served) == {s.code for s in SITES.sites}  # every site serves someone
    assert max(served.values()) < 60  # no catch-all site


def test_sites_and_cpia_organisations_are_the_same_list() -> None:
    cpia = {o.code: o for o in load_organisations() if o.kind is OrgKind.CPIA}
    assert set(cpia) == {s.code for s in SITES.sites}
    for site in SITES.sites:
        assert cpia[site.code].municipality in site.site  # the organisation sits in its site's town


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpia.yaml"
    path.write_text(text, encoding="utf-8")
    return path


_HEAD = 'version: "t"\nsites:\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '  - {code: "CPIA-ZOG", site: "Zogno", address: "Via Roma 1", phone: "+39 0345 91 530", '
            'comuni: ["Zogno", "San Pelegrino Terme"]}\n',
            r"sites\[0\] \(code='CPIA-ZOG'\): 'San Pelegrino Terme' is not an official comune",
        ),
        (
            '  - {code: "CPIA-ZOG", site: "Zogno", address: "Via Roma 1", phone: "+39 0345 91 530", '
            'comuni: ["sant omobono terme"]}\n',
            r"official name: \"Sant'Omobono Terme\"",
        ),
        (
            '  - {code: "CPIA-ZOG", site: "Zogno", address: "Via Roma 1", phone: "+39 0345 91 530", '
            'offices: ["CPI-ZOG"]}\n'
            '  - {code: "CPIA-BG", site: "Bergamo", address: "Via Roma 1", phone: "+39 035 239 0071", '
            'offices: ["CPI-BG", "CPI-ZOG"]}\n',
            r"sites\[1\] \(code='CPIA-BG'\): office 'CPI-ZOG' is already served by CPIA-ZOG",
        ),
        (
            '  - {code: "CPIA-SPT", site: "San Pellegrino", address: "Via Roma 1", phone: "+39 0345 91 530", '
            'offices: ["CPI-ZOG"]}\n',
            r"sites\[0\] \(code='CPIA-SPT'\): no organisation of kind cpia",
        ),
        (
            '  - {code: "CPIA-ZOG", site: "Zogno", address: "Via Roma 1", phone: "+39 0345 91 530", '
            'offices: ["CPI-SPT"]}\n',
            r"unknown CPI office 'CPI-SPT'",
        ),
        (
            '  - {code: "CPIA-ZOG", site: "Zogno", address: "Via Roma 1", phone: "0345 91530", offices: ["CPI-ZOG"]}\n',
            r"must look like '\+39 035 \.\.\.'",
        ),
        (
            '  - {code: "CPIA-ZOG", site: "Zogno", address: "Via Roma 1", phone: "+39 0345 91 530"}\n',
            r"serves no area",
        ),
    ],
)
def test_a_broken_file_names_file_entry_and_reason(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, _HEAD + body)
    with pytest.raises(ConfigError, match=message) as info:
        load_cpia_sites(path)
    assert str(path) in str(info.value)


def test_the_bundled_file_is_the_default() -> None:
    assert load_cpia_sites(CPIA_FILE).version == SITES.version
    assert load_cpia_sites() is load_cpia_sites()  # parsed once per process
