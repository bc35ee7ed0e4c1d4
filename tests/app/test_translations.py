"""Every French message of the UI has an English translation."""

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT

CATALOGUE = PROJECT_ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT),
        METHODS,
        keywords={"_": None, "_l": None, "gettext": None, "ngettext": (1, 2)},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_an_english_translation():
    with open(CATALOGUE, "rb") as handle:
        catalogue = read_po(handle)
    translated = {
        m.id[0] if isinstance(m.id, tuple) else m.id
        for m in catalogue
        if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    messages = _source_messages()
    assert len(messages) > 20
    missing = sorted(messages - translated)
    assert not missing, f"add to {CATALOGUE.name}: {missing}"
