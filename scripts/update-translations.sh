#!/usr/bin/env bash
# Re-extract the UI messages and merge them into the English catalogue; new entries
# arrive with an empty msgstr for a translator to fill (tests fail until they are).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F app/babel.cfg -k _l --sort-output --no-location \
    -o app/translations/messages.pot .
.venv/bin/pybabel update -i app/translations/messages.pot -d app/translations \
    --no-fuzzy-matching --ignore-obsolete
rm app/translations/messages.pot
