"""The accessibility checks every browser test runs on its pages: axe-core and the keyboard."""

from __future__ import annotations

from typing import Any


def assert_accessible(page: Any, name: str) -> None:
    """axe-core on the page as shown: no serious or critical violation; every field labelled."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(f"{v['id']} ({len(v['nodes'])})" for v in bad)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.name)"""
    )
    assert unlabelled == [], f"{name}: fields without a label: {unlabelled}"


def tab_through(page: Any, name: str, presses: int = 80) -> list[str]:
    """Tab from the top until focus leaves the page or comes round again: every focused control
    shows an outline; returns what was reached (id, else name, else text), in order."""
    reached: list[str] = []
    page.locator("body").focus()
    for _ in range(presses):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const el = document.activeElement; const s = getComputedStyle(el);
                 return {tag: el.tagName, id: el.id || el.name || el.textContent.trim().slice(0, 40),
                         style: s.outlineStyle + ' ' + s.outlineWidth + ' ' + el.matches(':focus'),
                         outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; }"""
        )
        if info["tag"] == "BODY" or (reached and info["id"] == reached[0]):
            break
        assert info["outline"], f"{name}: no visible focus on {info}"
        reached.append(info["id"])
    return reached
