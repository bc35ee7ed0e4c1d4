"""Draw the web app icons, static/img/icon-192.png and icon-512.png.

The favicon's red pin on the header's blue, inside the safe zone of a maskable icon.
Run once with Pillow: ``.venv/bin/python scripts/app_icons.py``; the PNGs are committed.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "static" / "img"
BLUE, RED, WHITE = "#1f4e79", "#c1121f", "#ffffff"


def icon(size: int) -> Image.Image:
    """Draw the icon, ``size`` pixels square."""
    scale = 4  # drawn large, then reduced: smooth edges
    s = size * scale
    image = Image.new("RGB", (s, s), BLUE)
    draw = ImageDraw.Draw(image)
    # The favicon's 32-unit pin, scaled into the central 60 % (a maskable icon's safe zone).
    unit = s * 0.6 / 32
    ox, oy = s * 0.2, s * 0.2

    def at(x, y):
        return (ox + x * unit, oy + y * unit)

    draw.polygon([at(9, 19), at(23, 19), at(16, 31)], fill=RED)
    draw.ellipse([at(7, 4), at(25, 22)], fill=RED)
    draw.ellipse([at(12, 9), at(20, 17)], fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


if __name__ == "__main__":
    for size in (192, 512):
        icon(size).save(OUT / f"icon-{size}.png", optimize=True)
