"""Checks that a page reads as plain English to a person, and screenshots of each step.

* ``assert_readable(page)``: no visible text on the page is raw JSON, a Python repr (``None``,
  ``True``, ``False`` where a value should be), an internal field id (``lives_alone``) or a
  file path (``synth/lambeth/mapping.yaml``, ``/tmp/...``). Text inside ``<code>`` is left
  alone (it names a command, an API path or a CSV column on purpose), and so is text inside
  an element marked ``data-verbatim`` (a file's rows shown as the file has them, such as the
  open data preview), and form controls' values.
* ``snap(page, role, step)``: a full-page screenshot at
  ``tests/.screenshots/<role>/<NN>-<step>.png`` (the folder is ignored by git), numbered in
  the order each role's steps are taken; returns its path.
* ``assert_fits(page)``: the page is no wider than its window (WCAG 1.4.10 reflow).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parent.parent / ".screenshots"

#: Every visible text node with whether it sits in <code>, <pre> or [data-verbatim] (skipped
#: for reprs, field ids and paths) and the element it belongs to, for the failure message.
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style, template, noscript, svg, option')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (el.closest('details:not([open]) > :not(summary)')) continue;
    const code = !!el.closest('code, pre, [data-verbatim]');
    out.push({text, code, where: el.tagName.toLowerCase()});
  }
  return out;
}"""

JSON = re.compile(r'[{\[]\s*"[^"]+"\s*:|"\w+"\s*:\s*["\d\[{tfn]')
REPR = re.compile(
    r"^(None|True|False|null|NaN|nan|undefined)$"  # a value shown as the language writes it
    r"|[:=]\s*(None|True|False)\b"  # "lives_alone: None"
    r"|\b(None|True|False),|\[(None|True|False)\b"
    r"|<[a-z_.]+ object at 0x|\{'\w+':"
)
FIELD_ID = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/(])")
PATH = re.compile(
    r"(?<![\w:/])(?:/(?:tmp|home|var|usr|etc|srv|work)/\S+"
    r"|[\w.-]+(?:/[\w.-]+)+\.(?:ya?ml|csv|json|parquet|py|db|xlsx|geojson|toml))"
)


def problems(texts: list[dict[str, Any]]) -> list[str]:
    """What a person should not have to read, one line per text (for the failure message)."""
    found = []
    for item in texts:
        text, code = item["text"], item["code"]
        if JSON.search(text):
            found.append(f"raw JSON in <{item['where']}>: {text[:120]!r}")
        elif not code and REPR.search(text):
            found.append(f"Python repr in <{item['where']}>: {text[:120]!r}")
        elif not code and (match := FIELD_ID.search(text)):
            found.append(f"field id {match.group(0)!r} in <{item['where']}>: {text[:120]!r}")
        elif not code and (match := PATH.search(text)):
            found.append(f"file path {match.group(0)!r} in <{item['where']}>: {text[:120]!r}")
    return found


def assert_readable(page: Any) -> None:
    """Fail if the page shows raw JSON, a Python repr, an internal field id or a file path."""
    found = problems(page.evaluate(VISIBLE_TEXT))
    assert not found, f"{page.url} is not plain English:\n" + "\n".join(found[:15])


def assert_fits(page: Any) -> None:
    """Fail if the page scrolls sideways: wider than its window (WCAG 1.4.10 reflow)."""
    wide, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= window, f"{page.url} is {wide}px wide in a {window}px window"


_steps: dict[str, int] = {}


def snap(page: Any, role: str, step: str) -> Path:
    """Save a full-page screenshot of this step of ``role``'s journey; returns its path."""
    folder = SCREENSHOTS / role
    if role not in _steps:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
    _steps[role] = _steps.get(role, 0) + 1
    path = folder / f"{_steps[role]:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower()).strip('-')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
