"""ruff (E, F, W, I, B, UP, and D on geo/) stays clean, as the house style asks."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    paths = [
        p for p in ("app", "geo", "tests", "bench", "migrations/env.py") if (ROOT / p).exists()
    ]
    done = subprocess.run(
        [ruff, "check", "--output-format", "concise", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
