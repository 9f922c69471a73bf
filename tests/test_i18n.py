"""Italian first, translatable: no bare text in templates, and a complete English catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
CATALOGUE = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# Names of languages are written in their own language, on purpose.
UNTRANSLATED_ON_PURPOSE = {"English", "Italiano"}
VISIBLE_ATTRIBUTES = re.compile(r'\b(aria-label|title|placeholder|alt)="([^"§]*)"')


def _template_texts(path: Path) -> list[str]:
    """Visible words written in the template itself rather than through _()."""
    source = path.read_text(encoding="utf-8")
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", "§", source, flags=re.S)  # an expression: translated or data
    source = re.sub(r"\{%.*?%\}", " ", source, flags=re.S)
    offenders = [
        text
        for _attr, text in VISIBLE_ATTRIBUTES.findall(source)
        if re.search(r"[A-Za-zÀ-ÿ]{2}", text)
    ]
    text = re.sub(r"<[^>]*>", " ", source)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    for word in re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’]+", text):
        if word not in UNTRANSLATED_ON_PURPOSE:
            offenders.append(word)
    return offenders


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_have_no_untranslatable_text(path):
    offenders = _template_texts(path)
    assert not offenders, f"testo visibile fuori da _(...) in {path.name}: {offenders}"


def _extracted_messages() -> set[str]:
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_an_english_translation():
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh)
    missing = []
    for msgid in sorted(_extracted_messages()):
        entry = catalogue.get(msgid)
        translated = entry is not None and entry.string and not entry.fuzzy
        if isinstance(entry.string if entry else None, tuple):
            translated = all(entry.string)
        if not translated:
            missing.append(msgid)
    assert not missing, "run `make update-messages` and translate: " + "; ".join(missing)


def test_placeholders_survive_translation():
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh)
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", " ".join(ids)))
        for text in strings:
            if not text:
                continue  # untranslated: the test above reports it
            assert set(re.findall(r"%\(\w+\)[sd]", text)) == wanted, message.id


def test_a_block_forced_to_italian_speaks_italian_after_the_request_spoke_english(app):
    """The catalogue is kept for the request, by language: the open-data API switches to Italian
    for its labels (force_locale) even when the user reads the portal in English, and lazy
    labels follow the switch too."""
    from flask import session
    from flask_babel import force_locale, gettext, lazy_gettext

    label = lazy_gettext("Nuclei familiari")
    with app.test_request_context("/"):
        session["lang"] = "en"
        english = gettext("Nuclei familiari")
        assert english != "Nuclei familiari"
        assert str(label) == english
        with force_locale("it"):
            assert gettext("Nuclei familiari") == "Nuclei familiari"
            assert str(label) == "Nuclei familiari"
        assert gettext("Nuclei familiari") == english
