"""``/j``: a resident types the code of their table and lands on ``/j/<code>``.

Codes are typed from paper or read aloud: lower case, spaces and dashes are accepted;
the characters the codes never use (0, O, 1, I, L) are refused with a hint, since they
are what people misread. An unknown code says only that it is unknown. Each submitted
code counts against the client's rate limit (app.ratelimit), so nobody can try codes
in bulk. No account, no cookie, no CSRF token: the form only leads to a public URL.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import ratelimit, security
from app.extensions import db
from app.models import WorkshopGroup
from app.workshops.groups import ALPHABET, CODE_LENGTH, normalise_code

bp = Blueprint("join", __name__)
security.csrf_exempt(bp)

# The characters the codes leave out (app.workshops.groups.ALPHABET): misreadings.
AMBIGUOUS = frozenset("0O1IL")
MAX_TYPED = 40


def check_code(typed: str) -> tuple[str, str | None]:
    """The normalised code and what is wrong with it (None when it is well formed)."""
    code = normalise_code(typed or "")[:MAX_TYPED]
    if not code:
        return code, _("Code de la table : saisissez le code donné par l'animateur.")
    misread = sorted({ch for ch in code if ch in AMBIGUOUS})
    if misread:
        return code, _(
            "Code de la table : les codes n'utilisent jamais les caractères 0, O, 1, I "
            "ni L, pour qu'on ne les confonde pas. Vérifiez %(chars)s.",
            chars=", ".join(f"«\u00a0{ch}\u00a0»" for ch in misread),
        )
    if any(ch not in ALPHABET for ch in code):
        return code, _("Code de la table : seulement des lettres et des chiffres.")
    if len(code) != CODE_LENGTH:
        return code, _(
            "Code de la table : %(expected)d caractères attendus, %(got)d saisis.",
            expected=CODE_LENGTH,
            got=len(code),
        )
    return code, None


@bp.route("/j", methods=["GET", "POST"])
def enter_code():
    """The code form; a known code redirects to its pinning page (302). A malformed code
    answers 422 with a hint, an unknown one 404, too many tries 429."""
    if request.method == "GET":
        return render_template("pinning/join.html", typed="", error=None)
    typed = request.form.get("code", "")
    ratelimit.limit_code_entry()
    code, error = check_code(typed)
    status = 422
    if error is None:
        known = db.session.scalar(
            sa.select(WorkshopGroup.join_code).where(WorkshopGroup.join_code == code)
        )
        if known:
            return redirect(url_for("pinning.pin_page", code=known))
        error, status = _("Code inconnu. Vérifiez le code donné par l'animateur."), 404
    return render_template("pinning/join.html", typed=typed[:MAX_TYPED], error=error), status
