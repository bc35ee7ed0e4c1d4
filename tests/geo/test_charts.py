"""Server-drawn bar charts: numbers and shares on the bars, withheld values as text with no
bar, escaped labels, accessible, and a valid SVG that fits a phone."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from geo.charts import WRAP, Bar, Group, bar_chart, value_text

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_counts_and_shares_are_written_on_the_bars():
    svg = bar_chart(
        "Le soir", [Group(None, [Bar("Plutôt en sécurité", 40, 0.526), Bar("Très", 12, 0.158)])]
    )
    root = _parse(svg)
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["40 · 53 %", "12 · 16 %"]
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] > widths[1] > 0
    assert abs(widths[1] / widths[0] - 0.158 / 0.526) < 0.01


def test_withheld_values_have_text_and_no_bar():
    svg = bar_chart("Q", [Group(None, [Bar("A", 50, 0.9), Bar("B", None, None)])], withheld="< 3")
    root = _parse(svg)
    assert len(list(root.iter(f"{SVG}rect"))) == 1
    withheld = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "withheld"]
    assert withheld == ["< 3"]
    assert "&lt; 3" in svg


def test_labels_are_escaped():
    evil = "<script>alert(1)</script> & \"x\" 'y'"
    svg = bar_chart(evil, [Group(evil, [Bar(evil, 5, 0.5)], note=None)])
    assert "<script>" not in svg
    root = _parse(svg)  # well-formed XML whatever the label
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert evil in texts
    assert root.get("aria-label") == evil


def test_accessible_and_sized_for_a_phone():
    svg = bar_chart(
        "Titre", [Group("Femmes", [Bar("A", 3, None)]), Group("Hommes", [], note="Moins de 3")]
    )
    root = _parse(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "Titre"
    assert root.find(f"{SVG}title").text == "Titre"
    desc = root.find(f"{SVG}desc").text
    assert "Femmes" in desc and "A : 3." in desc and "Moins de 3" in desc
    assert root.get("viewBox").startswith("0 0 360 ")
    assert root.get("width") == "360" and root.get("height") == root.get("viewBox").split()[3]


def test_long_labels_wrap_and_values_stay_inside():
    label = "Plus de présence de police ou de médiateurs dans les rues le soir et la nuit"
    root = _parse(bar_chart("Q", [Group(None, [Bar(label, 100, 1.0)])]))
    lines = [t for t in root.iter(f"{SVG}text") if t.get("class") is None]
    assert len(lines) >= 2 and all(len(t.text) <= WRAP for t in lines)
    assert " ".join(t.text for t in lines) == label
    for text in root.iter(f"{SVG}text"):
        assert 0 <= float(text.get("x")) <= 360


def test_value_text_formats():
    assert value_text(Bar("a", 7, None), "< 3") == "7"
    assert value_text(Bar("a", None, None), "< 3") == "< 3"
    assert value_text(Bar("a", 7, 0.5), "< 3", "{}%") == "7 · 50%"


def test_no_shown_bar_draws_no_rect():
    svg = bar_chart("Q", [Group(None, [Bar("a", None), Bar("b", None)])])
    assert "<rect" not in svg and re.search(r"viewBox=\"0 0 360 \d+\"", svg)
