"""The wheel holds every package of app/ and geo/, and the templates, static files,
translations and migrations that create_app reads from the installed package when no
checkout is around (pyproject.toml's package list follows the layout)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the wheel does not need; build/ especially, whose stale copies would be packed.
LEFT_OUT = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "node_modules",
    "build",
    "*.egg-info",
    "__pycache__",
    ".ruff_cache",
    "tests",
    "bench",
    "data",
    "deploy",
)


def _wheel_names(tmp_path: Path) -> set[str]:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    dist = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["-q", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = dist.glob("ressenti-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _expected() -> set[str]:
    code = [p for folder in ("app", "geo") for p in (ROOT / folder).rglob("*.py")]
    expected = {p.relative_to(ROOT).as_posix() for p in code}
    for folder in ("templates", "static", "migrations"):  # installed under app/
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.name[0] != ".":
                expected.add("app/" + path.relative_to(ROOT).as_posix())
    return expected | {"app/translations/en/LC_MESSAGES/messages.po"}


def test_the_wheel_holds_every_package_and_the_files_it_needs(tmp_path):
    names = _wheel_names(tmp_path)
    expected = _expected()
    for package in ("app/analysis", "app/gis", "app/followup", "app/workshops", "geo"):
        assert f"{package}/__init__.py" in expected
    assert "app/migrations/env.py" in expected
    assert any(n.startswith("app/migrations/versions/0001_") for n in expected)
    assert any(n.startswith("app/static/js/") for n in expected)
    missing = sorted(expected - names)
    assert not missing, missing
