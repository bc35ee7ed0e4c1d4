"""The CLSPD's follow-up: proposals turned into actions tied to places, the monthly
board, each action's timeline, and what changed where actions were carried out.

Who does what (DESIGN §6): coordinators (and admins) write; police and planners read
every action; the public reads public actions and their public updates on the quartier
pages (:mod:`app.public.views`).
"""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import access, audit, vocabulary
from app.errors import ValidationError
from app.extensions import db
from app.followup.actions import (
    OPEN_STATUSES,
    BoardFilters,
    action_quartiers,
    action_query,
    before_after,
    board_filters,
    is_overdue,
)
from app.followup.forms import TEXT_MAX, TITLE_MAX, apply_values, hot_cells, parse_action, values_of
from app.followup.maps import board_map, draw_map, zone_map
from app.models import (
    ACTION_STATUSES,
    PARTNERS,
    Action,
    ActionUpdate,
    Proposal,
    Territory,
    Theme,
    Workshop,
    utcnow,
)
from geo.export import spreadsheet_safe

bp = Blueprint("followup", __name__, url_prefix="/t/<slug>/suivi")


# -- reading ---------------------------------------------------------------------------------


def _board_filters(territory: Territory) -> BoardFilters:
    return board_filters(territory, request.args)


@bp.get("/")
@login_required
def board(slug: str):
    """The CLSPD board: counts per status, the actions (filtered) and their zones on the
    hot spot map."""
    territory = access.territory_for(slug, *access.READERS)
    try:
        filters = _board_filters(territory)
    except ValidationError as exc:
        return _board_page(territory, [], exc.fields), 422
    actions = db.session.scalars(action_query(territory, filters)).all()
    return _board_page(territory, actions, {})


def _board_page(territory: Territory, actions: list[Action], errors: dict):
    counts = dict(
        db.session.execute(
            sa.select(Action.status, sa.func.count())
            .where(Action.territory_id == territory.id)
            .group_by(Action.status)
        ).all()
    )
    overdue = db.session.scalar(
        sa.select(sa.func.count()).where(
            Action.territory_id == territory.id,
            Action.status.in_(OPEN_STATUSES),
            Action.due_on < date.today(),
        )
    )

    return render_template(
        "followup/board.html",
        territory=territory,
        actions=actions,
        counts=counts,
        overdue=overdue,
        errors=errors,
        args=request.args,
        quartiers=territory.quartiers,
        map_spec=None if errors else board_map(territory, actions),
        is_overdue=is_overdue,
        can_write=access.may_write(territory),
    )


@bp.get("/actions.csv")
@login_required
def board_csv(slug: str):
    """The board as CSV for the meeting's minutes (same filters)."""
    territory = access.territory_for(slug, *access.READERS)
    filters = _board_filters(territory)
    actions = db.session.scalars(action_query(territory, filters)).all()
    audit.record("export", target="actions.csv", territory=territory, filters=dict(request.args))
    db.session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "id",
            "titre",
            "thème",
            "partenaires",
            "statut",
            "échéance",
            "en retard",
            "public",
            "quartiers",
            "ateliers",
            "dernière mise à jour",
            "date de mise à jour",
        ]
    )
    for action in actions:
        last = action.updates[-1] if action.updates else None
        writer.writerow(
            [
                action.id,
                *[
                    spreadsheet_safe(v)
                    for v in (
                        action.title,
                        action.theme.label_fr if action.theme else "",
                        vocabulary.partner_names(action.partners),
                        str(vocabulary.ACTION_STATUS_LABELS[action.status]),
                        action.due_on.isoformat() if action.due_on else "",
                        "oui" if is_overdue(action) else "non",
                        "oui" if action.public else "non",
                        ", ".join(action_quartiers(action)),
                        ", ".join(w.title for w in action.workshops),
                        last.text if last else "",
                        last.created_at.date().isoformat() if last else "",
                    )
                ],
            ]
        )
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename=ressenti-{territory.slug}-actions.csv"
        },
    )


def _action(territory: Territory, action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or action.territory_id != territory.id:
        abort(404)
    return action


@bp.get("/actions/<int:action_id>")
@login_required
def show(slug: str, action_id: int):
    """One action: what, who, where, its timeline and perception before and after."""
    territory = access.territory_for(slug, *access.READERS)
    return _show_page(territory, _action(territory, action_id))


def _show_page(territory: Territory, action: Action, **update_form):
    return render_template(
        "followup/show.html",
        territory=territory,
        action=action,
        quartiers=action_quartiers(action),
        map_spec=zone_map(territory, [action]),
        before_after=before_after(action),
        is_overdue=is_overdue(action),
        can_write=access.may_write(territory),
        **update_form,
    )


# -- writing ---------------------------------------------------------------------------------


def _choices(territory: Territory, action: Action | None = None) -> dict:
    """What the action form offers: themes (the action's own, even withdrawn), proposals,
    workshops, quartiers, hot cells."""
    current = action.theme_id if action else None
    return {
        "themes": db.session.scalars(
            sa.select(Theme)
            .where(sa.or_(Theme.active.is_(True), Theme.id == current))
            .order_by(Theme.position)
        ).all(),
        "proposals": db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.territory_id == territory.id)
            .order_by(Proposal.workshop_id.desc(), Proposal.id)
        ).all(),
        "workshops": db.session.scalars(
            sa.select(Workshop)
            .where(Workshop.territory_id == territory.id)
            .order_by(Workshop.held_on.desc())
        ).all(),
        "quartiers": territory.quartiers,
        "hot_cells": hot_cells(territory),
        "partners": PARTNERS,
        "statuses": ACTION_STATUSES,
    }


@bp.route("/actions/nouvelle", methods=["GET", "POST"])
@login_required
def create(slug: str):
    """A new action, from scratch or from a proposal (``?proposal=<id>``)."""
    territory = access.territory_for(slug, *access.WRITERS)
    choices = _choices(territory)
    if request.method == "GET":
        values = _initial_values(territory, request.args.get("proposal", ""))
        return _form(territory, None, values, {}, choices)
    values = request.form
    try:
        clean = parse_action(territory, values, choices)
    except ValidationError as exc:
        return _form(territory, None, values, exc.fields, choices), 422
    action = Action(territory_id=territory.id, created_by=current_user.id)
    apply_values(action, clean)
    action.updates.append(
        ActionUpdate(
            author_id=current_user.id,
            author_name=current_user.name,
            text=_("Action créée."),
            status_to=action.status,
        )
    )
    db.session.add(action)
    db.session.commit()
    return redirect(url_for("followup.show", slug=slug, action_id=action.id))


def _initial_values(territory: Territory, proposal_id: str) -> dict:
    values: dict = {"status": "proposed", "zone_kind": ""}
    if proposal_id.isascii() and proposal_id.isdigit():
        proposal = db.session.get(Proposal, int(proposal_id))
        if proposal and proposal.territory_id == territory.id:
            values.update(
                title=proposal.text[:TITLE_MAX],
                theme=str(proposal.theme_id or ""),
                proposals=[str(proposal.id)],
                workshops=[str(proposal.workshop_id)],
            )
    return values


@bp.route("/actions/<int:action_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(slug: str, action_id: int):
    """Change an action; a change of status is written to its timeline."""
    territory = access.territory_for(slug, *access.WRITERS)
    action = _action(territory, action_id)
    choices = _choices(territory, action)
    if request.method == "GET":
        return _form(territory, action, values_of(action), {}, choices)
    try:
        clean = parse_action(territory, request.form, choices, action)
    except ValidationError as exc:
        return _form(territory, action, request.form, exc.fields, choices), 422
    before = action.status
    apply_values(action, clean)
    if action.status != before:
        _status_update(action, before, "")
    db.session.commit()
    return redirect(url_for("followup.show", slug=slug, action_id=action.id))


@bp.post("/actions/<int:action_id>/suivi")
@login_required
def add_update(slug: str, action_id: int):
    """Add a dated line to the timeline, optionally with a new status."""
    territory = access.territory_for(slug, *access.WRITERS)
    action = _action(territory, action_id)
    text = request.form.get("text", "").strip()
    status = request.form.get("status") or action.status
    errors = {}
    if status not in ACTION_STATUSES:
        errors["status"] = _("Statut inconnu.")
    if len(text) > TEXT_MAX:
        errors["text"] = _("%(max)d caractères au plus.", max=TEXT_MAX)
    if not text and status == action.status:
        errors["text"] = _("Écrivez ce qui a été fait, ou changez le statut.")
    if errors:
        return _show_page(territory, action, update_errors=errors, update_values=request.form), 422
    public = request.form.get("public") == "1"
    if status != action.status:
        before = action.status
        action.status = status
        _status_update(action, before, text, public)
    else:
        action.updates.append(
            ActionUpdate(
                author_id=current_user.id,
                author_name=current_user.name,
                text=text,
                public=public,
            )
        )
    action.updated_at = utcnow()
    db.session.commit()
    return redirect(url_for("followup.show", slug=slug, action_id=action.id))


def _status_update(action: Action, before: str, text: str, public: bool = True) -> None:
    action.updates.append(
        ActionUpdate(
            author_id=current_user.id,
            author_name=current_user.name,
            text=text,
            status_from=before,
            status_to=action.status,
            public=public,
        )
    )


def _form(territory, action, values, errors, choices):
    return render_template(
        "followup/form.html",
        territory=territory,
        action=action,
        values=values,
        errors=errors,
        map_spec=draw_map(territory, action),
        **choices,
    )


@bp.post("/propositions/<int:proposal_id>")
@login_required
def theme_proposal(slug: str, proposal_id: int):
    """Give a proposal its theme (from the workshop's diagnostics page)."""
    territory = access.territory_for(slug, *access.WRITERS)
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.territory_id != territory.id:
        abort(404)
    theme = request.form.get("theme", "")
    if theme:
        found = db.session.get(Theme, int(theme)) if theme.isascii() and theme.isdigit() else None
        if found is None:
            raise ValidationError({"theme": _("Thème inconnu.")}, _("Thème inconnu."))
        proposal.theme = found
    else:
        proposal.theme = None
    db.session.commit()
    return redirect(
        url_for("workshops.diagnostics", slug=slug, workshop_id=proposal.workshop_id)
        + f"#proposition-{proposal.id}"
    )


# -- before / after ----------------------------------------------------------------------------
