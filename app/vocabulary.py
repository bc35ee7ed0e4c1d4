"""The domain words of DESIGN §2 as people read them, and the colours that draw them.

One way to translate: every fixed label is a French ``lazy_gettext`` message whose English
lives in app/translations (``str(label)`` gives the request's language); labels stored
in the database (categories, themes) go through :func:`stored_label`. The colours have
their one home here too: templates, the server-built map descriptions and the browser's
CSS/JS read them from :func:`palette` (a JSON data island and CSS custom properties
written by templates/base.html), never from a copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

FEELING_LABELS = {"unsafe": _l("Insécurité"), "safe": _l("Sécurité")}
TIME_LABELS = {
    "morning": _l("Le matin"),
    "day": _l("La journée"),
    "evening": _l("Le soir"),
    "night": _l("La nuit"),
    "always": _l("Tout le temps"),
}
WORKSHOP_KIND_LABELS = {
    "atelier": _l("Atelier de proximité"),
    "assises": _l("Assises de la sécurité"),
    "marche_exploratoire": _l("Marche exploratoire"),
    "cellule_de_veille": _l("Cellule de veille"),
    "questionnaire": _l("Questionnaire en ligne"),
}
WORKSHOP_STATUS_LABELS = {
    "draft": _l("En préparation"),
    "open": _l("Ouvert"),
    "closed": _l("Clôturé"),
}
ACTION_STATUS_LABELS = {
    "proposed": _l("proposée"),
    "engaged": _l("engagée"),
    "done": _l("réalisée"),
    "abandoned": _l("abandonnée"),
}
PARTNER_LABELS = {
    "police_nationale": _l("Police nationale"),
    "police_municipale": _l("Police municipale"),
    "bailleur": _l("Bailleur"),
    "services_techniques": _l("Services techniques"),
    "mediation": _l("Médiation"),
    "parquet": _l("Parquet"),
    "education_nationale": _l("Éducation nationale"),
    "associations": _l("Associations"),
}
ROLE_LABELS = {
    "admin": _l("Administrateur"),
    "coordinator": _l("Coordinateur"),
    "police": _l("Police"),
    "planner": _l("Urbaniste"),
}

FEELING_COLOURS = {"unsafe": "#c1121f", "safe": "#2a9d8f"}
# Gi* bins: hot (3 = 99 % confidence) to cold (-3).
HOTSPOT_COLOURS = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}
# The difference layer: weighs more in set B / in set A.
DIFFERENCE_COLOURS = {"b": HOTSPOT_COLOURS[3], "a": HOTSPOT_COLOURS[-3]}
# Hexagon counts: (at least this many pins, colour).
HEX_STEPS = ((1, "#fff5eb"), (3, "#fdd0a2"), (6, "#fd8d3c"), (12, "#d94801"), (25, "#7f2704"))
# Emerging hot spot patterns (geo.trends.PATTERNS); cells with no pattern are not drawn.
TREND_COLOURS = {
    "new": "#fd8d3c",
    "intensifying": "#99000d",
    "persistent": "#e31a1c",
    "diminishing": "#fcbba1",
    "sporadic": "#984ea3",
    "no_pattern": "#f0f0f0",
}
ACTION_STATUS_COLOURS = {
    "proposed": "#6c757d",
    "engaged": "#e36414",
    "done": "#2a9d8f",
    "abandoned": "#adb5bd",
}
# Walking routes: the recommended path, the shortest one, their ends.
ROUTE_COLOURS = {"recommended": "#1b7837", "shortest": "#5a5a5a", "ends": "#1f4e79"}


def translated(labels: Mapping[str, object]) -> dict[str, str]:
    """``labels`` as plain strings (for JSON), in the request's language."""
    return {code: str(label) for code, label in labels.items()}


def english() -> bool:
    return str(get_locale()) == "en"


def stored_label(row) -> str:
    """A category's or theme's label (stored in both languages) in the request's language."""
    return row.label_en if english() else row.label_fr


def partner_names(partners: Iterable[str]) -> str:
    return ", ".join(str(PARTNER_LABELS[p]) for p in partners if p in PARTNER_LABELS)


def rgb(colour: str) -> tuple[int, int, int]:
    """``"#c1121f"`` as ``(193, 18, 31)``, for the server-drawn PNG maps."""
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def palette() -> dict:
    """Every colour the browser needs, for the data island and the CSS custom properties."""
    return {
        "feeling": FEELING_COLOURS,
        "hotspot": {str(b): c for b, c in HOTSPOT_COLOURS.items()},
        "difference": DIFFERENCE_COLOURS,
        "hexagon": {str(n): c for n, c in HEX_STEPS},  # from this many pins
        "action_status": ACTION_STATUS_COLOURS,
        "trend": TREND_COLOURS,
        "route": ROUTE_COLOURS,
    }


def css_properties() -> dict[str, str]:
    """The palette as CSS custom properties (``--feeling-unsafe: #c1121f``)."""
    return {
        f"--{group}-{name}".replace("_", "-"): colour
        for group, colours in palette().items()
        for name, colour in colours.items()
    }


def register(app: Flask) -> None:
    """Hand the labels and the palette to every template."""

    @app.context_processor
    def vocabulary_context() -> dict:
        return {
            "action_status_labels": ACTION_STATUS_LABELS,
            "action_status_colours": ACTION_STATUS_COLOURS,
            "partner_labels": PARTNER_LABELS,
            "partner_names": partner_names,
            "feeling_colours": FEELING_COLOURS,
            "difference_colours": DIFFERENCE_COLOURS,
            "palette": palette,
            "css_properties": css_properties,
            "stored_label": stored_label,
            "time_labels": TIME_LABELS,
        }
