"""Database models. Geometries are stored in EPSG:4326; measures use the territory's metric CRS.

Over 400 lines on purpose: every table in one module, so the schema, its constraints and
the constants the migrations quote read in one place, as Alembic compares them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class Territory(db.Model):
    """A commune or intercommunalité using Ressenti."""

    __tablename__ = "territory"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2), default="FR")
    # Dates people read (a questionnaire's window) are in this zone (migration 0015).
    time_zone: Mapped[str] = mapped_column(
        sa.String(64), default="Europe/Paris", server_default="Europe/Paris"
    )
    metric_srid: Mapped[int] = mapped_column(sa.Integer)
    # The density counting grid over the quartiers (metric CRS), set at quartier import
    # by the database function territory_grid (migration 0008).
    grid_west: Mapped[float | None] = mapped_column(sa.Float)
    grid_south: Mapped[float | None] = mapped_column(sa.Float)
    grid_east: Mapped[float | None] = mapped_column(sa.Float)
    grid_north: Mapped[float | None] = mapped_column(sa.Float)
    grid_cell: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    quartiers: Mapped[list[Quartier]] = relationship(
        back_populates="territory", order_by="Quartier.code", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Territory {self.slug}>"


class Quartier(db.Model):
    """One quartier of a territory, as imported from an official boundary file."""

    __tablename__ = "quartier"
    __table_args__ = (sa.UniqueConstraint("territory_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    source: Mapped[str] = mapped_column(sa.String(300))
    source_digest: Mapped[str] = mapped_column(sa.String(64))
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    territory: Mapped[Territory] = relationship(back_populates="quartiers")

    def __repr__(self) -> str:
        return f"<Quartier {self.code} {self.name}>"


class Street(db.Model):
    """A street centre-line drawn under the quartiers when no tile server is reachable."""

    __tablename__ = "street"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(sa.String(200))
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    source_digest: Mapped[str] = mapped_column(sa.String(64))
    # OSM ``highway`` (motorways and trunk roads stay out of the walking graph) and
    # ``layer`` (a bridge does not meet the street it crosses): migration 0014.
    highway: Mapped[str | None] = mapped_column(sa.String(40))
    level: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")


# -- accounts ------------------------------------------------------------------------------

ROLES = ("admin", "coordinator", "police", "planner")

user_territory = sa.Table(
    "user_territory",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("territory_id", sa.ForeignKey("territory.id", ondelete="CASCADE"), primary_key=True),
)


class User(db.Model):
    """A person with an account: residents never have one.

    ``role`` is one of :data:`ROLES`. An admin sees every territory; the other roles
    see only the territories they are scoped to.
    """

    __tablename__ = "app_user"
    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES}", name="ck_app_user_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Bumped by logout and password resets: sessions carrying an older value are ended.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    territories: Mapped[list[Territory]] = relationship(
        secondary=user_territory, order_by="Territory.name"
    )
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", order_by="ApiToken.created_at", cascade="all, delete-orphan"
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def can_see(self, territory: Territory) -> bool:
        return self.role == "admin" or any(t.id == territory.id for t in self.territories)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for scripts and QGIS; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginThrottle(db.Model):
    """Recent failed logins for one key (an account from one client, or one client), and
    when the next try is allowed. In PostgreSQL so that every worker sees the same count."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class RateCounter(db.Model):
    """Requests counted for one rate-limit key in its current window (app.ratelimit).

    UNLOGGED: counters are worth nothing after a crash, and writing no WAL keeps each
    request cheap. Keys hold no IP address in clear (a keyed hash)."""

    __tablename__ = "rate_counter"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    count: Mapped[int] = mapped_column(default=0)


class AuditEvent(db.Model):
    """One line of the audit log. The database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    # No ON DELETE action: the log is append-only, so users are deactivated, never deleted.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(50), index=True)
    target: Mapped[str] = mapped_column(sa.String(300), default="")
    territory_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territory.id"))
    details: Mapped[dict] = mapped_column(JSONB, default=dict)


# -- workshops and pins --------------------------------------------------------------------

WORKSHOP_KINDS = ("atelier", "assises", "marche_exploratoire", "cellule_de_veille", "questionnaire")
WORKSHOP_STATUSES = ("draft", "open", "closed")
FEELINGS = ("unsafe", "safe")
TIMES_OF_DAY = ("morning", "day", "evening", "night", "always")
COMMENT_STATUSES = ("pending", "approved", "rejected", "purged")

workshop_quartier = sa.Table(
    "workshop_quartier",
    db.metadata,
    sa.Column("workshop_id", sa.ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("quartier_id", sa.ForeignKey("quartier.id", ondelete="CASCADE"), primary_key=True),
)


class Category(db.Model):
    """Why a place feels unsafe or safe; ``feelings`` lists the feelings it applies to."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    label_fr: Mapped[str] = mapped_column(sa.String(100))
    label_en: Mapped[str] = mapped_column(sa.String(100))
    feelings: Mapped[list[str]] = mapped_column(ARRAY(sa.String(10)))
    colour: Mapped[str] = mapped_column(sa.String(7))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Workshop(db.Model):
    """An atelier, assises, marche exploratoire, cellule de veille or online questionnaire."""

    __tablename__ = "workshop"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {WORKSHOP_KINDS}", name="ck_workshop_kind"),
        sa.CheckConstraint(f"status IN {WORKSHOP_STATUSES}", name="ck_workshop_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territory.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    title: Mapped[str] = mapped_column(sa.String(200))
    edition: Mapped[str] = mapped_column(sa.String(100), default="")
    held_on: Mapped[date] = mapped_column(sa.Date)
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    territory: Mapped[Territory] = relationship()
    quartiers: Mapped[list[Quartier]] = relationship(
        secondary=workshop_quartier, order_by="Quartier.name"
    )
    groups: Mapped[list[WorkshopGroup]] = relationship(
        back_populates="workshop", order_by="WorkshopGroup.id", cascade="all, delete-orphan"
    )


class WorkshopGroup(db.Model):
    """A table of a workshop; residents join it with its code. Holds its diagnostic."""

    __tablename__ = "workshop_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territory.id"), index=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    join_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # The group diagnostic: the workshop's four questions.
    troubles: Mapped[str] = mapped_column(sa.Text, default="")
    causes: Mapped[str] = mapped_column(sa.Text, default="")
    solutions: Mapped[str] = mapped_column(sa.Text, default="")
    residents_role: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    workshop: Mapped[Workshop] = relationship(back_populates="groups")
    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="group", order_by="Proposal.id", cascade="all, delete-orphan"
    )


class Theme(db.Model):
    """A theme of the action plan (seeded with the eight of the Quimper assises)."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    label_fr: Mapped[str] = mapped_column(sa.String(120))
    label_en: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Proposal(db.Model):
    """What a group proposes; the follow-up turns proposals into actions."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territory.id"), index=True)
    workshop_id: Mapped[int] = mapped_column(sa.ForeignKey("workshop.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("workshop_group.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(sa.Text)
    theme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("theme.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    group: Mapped[WorkshopGroup] = relationship(back_populates="proposals")
    theme: Mapped[Theme | None] = relationship()
    workshop: Mapped[Workshop] = relationship()


class Pin(db.Model):
    """One perceived place. The id is made by the resident's browser, so that re-sending
    a pin never duplicates it. No IP address or device identifier is stored."""

    __tablename__ = "pin"
    __table_args__ = (
        sa.CheckConstraint(f"feeling IN {FEELINGS}", name="ck_pin_feeling"),
        sa.CheckConstraint(f"time_of_day IN {TIMES_OF_DAY}", name="ck_pin_time_of_day"),
        sa.CheckConstraint(
            f"comment_status IS NULL OR comment_status IN {COMMENT_STATUSES}",
            name="ck_pin_comment_status",
        ),
        sa.Index(
            "ix_pin_territory_filters", "territory_id", "feeling", "category_id", "time_of_day"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territory.id"))
    workshop_id: Mapped[int] = mapped_column(sa.ForeignKey("workshop.id"), index=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("workshop_group.id"), index=True)
    feeling: Mapped[str] = mapped_column(sa.String(10))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"))
    time_of_day: Mapped[str] = mapped_column(sa.String(10))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    comment_status: Mapped[str | None] = mapped_column(sa.String(10))
    moderated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    # The point in the territory's metric CRS, kept by a database trigger (migration 0004).
    x_m: Mapped[float] = mapped_column(
        sa.Float, server_default=sa.FetchedValue(), server_onupdate=sa.FetchedValue()
    )
    y_m: Mapped[float] = mapped_column(
        sa.Float, server_default=sa.FetchedValue(), server_onupdate=sa.FetchedValue()
    )
    # Its hexagon at the default size (150 m), kept by the same trigger (migration 0007).
    hex_q: Mapped[int] = mapped_column(
        sa.BigInteger, server_default=sa.FetchedValue(), server_onupdate=sa.FetchedValue()
    )
    hex_r: Mapped[int] = mapped_column(
        sa.BigInteger, server_default=sa.FetchedValue(), server_onupdate=sa.FetchedValue()
    )
    # Its cell of the territory's density grid, kept by the same trigger (migration 0008).
    grid_i: Mapped[int | None] = mapped_column(
        sa.Integer, server_default=sa.FetchedValue(), server_onupdate=sa.FetchedValue()
    )
    grid_j: Mapped[int | None] = mapped_column(
        sa.Integer, server_default=sa.FetchedValue(), server_onupdate=sa.FetchedValue()
    )
    # The quartier the pin lies in (or nearest, within 50 m), kept by a trigger (0005).
    quartier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("quartier.id", ondelete="SET NULL"),
        index=True,
        server_default=sa.FetchedValue(),
        server_onupdate=sa.FetchedValue(),
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    category: Mapped[Category] = relationship()
    group: Mapped[WorkshopGroup] = relationship()


# -- follow-up: the CLSPD's action plan ------------------------------------------------------

ACTION_STATUSES = ("proposed", "engaged", "done", "abandoned")
PARTNERS = (
    "police_nationale",
    "police_municipale",
    "bailleur",
    "services_techniques",
    "mediation",
    "parquet",
    "education_nationale",
    "associations",
)
ZONE_KINDS = ("drawn", "hotspots", "quartiers")

action_proposal = sa.Table(
    "action_proposal",
    db.metadata,
    sa.Column("action_id", sa.ForeignKey("action.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("proposal_id", sa.ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True),
)
action_workshop = sa.Table(
    "action_workshop",
    db.metadata,
    sa.Column("action_id", sa.ForeignKey("action.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("workshop_id", sa.ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True),
)


class Action(db.Model):
    """An item of the action plan: who does what, where, by when, and how it went."""

    __tablename__ = "action"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {ACTION_STATUSES}", name="ck_action_status"),
        sa.CheckConstraint(
            f"zone_kind IS NULL OR zone_kind IN {ZONE_KINDS}", name="ck_action_zone_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territory.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    theme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("theme.id", ondelete="SET NULL"))
    partners: Mapped[list[str]] = mapped_column(ARRAY(sa.String(40)), default=list)
    status: Mapped[str] = mapped_column(sa.String(10), default="proposed")
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    zone = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True)
    zone_kind: Mapped[str | None] = mapped_column(sa.String(10))
    public: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    theme: Mapped[Theme | None] = relationship()
    proposals: Mapped[list[Proposal]] = relationship(secondary=action_proposal)
    workshops: Mapped[list[Workshop]] = relationship(
        secondary=action_workshop, order_by="Workshop.held_on"
    )
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action",
        order_by="ActionUpdate.created_at",
        cascade="all, delete-orphan",
    )


class ActionUpdate(db.Model):
    """A dated line of an action's timeline; status changes write one too."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    author_name: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    status_from: Mapped[str | None] = mapped_column(sa.String(10))
    status_to: Mapped[str | None] = mapped_column(sa.String(10))
    public: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    action: Mapped[Action] = relationship(back_populates="updates")


class PublicRelease(db.Model):
    """Noisy counts of one workshop's pins, released once for every public output
    (DESIGN §6, :mod:`app.analysis.release`). Never updated: a count released keeps its noise."""

    __tablename__ = "public_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    # Pins placed in (period_start, period_end]; period_start is None for the first.
    period_start: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # The dates the public's from/to filters match (workshop days or questionnaire period).
    covers_from: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    covers_to: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    made_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    epsilon: Mapped[float] = mapped_column(sa.Float)  # per pin, all tables together
    k: Mapped[int] = mapped_column(sa.Integer)
    scales: Mapped[dict] = mapped_column(JSONB)
    cells: Mapped[dict] = mapped_column(JSONB)
    quartiers: Mapped[dict] = mapped_column(JSONB)


class DataVersion(db.Model):
    """A version per territory that every write the layers read renews (pins, releases,
    quartiers; database triggers, migration 0013, from one sequence so that a version is
    never given twice): cached layers are valid while it is unchanged. No row: 0."""

    __tablename__ = "data_version"

    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.BigInteger)


class LayerCache(db.Model):
    """A computed layer document and the data version it was computed at
    (:mod:`app.analysis.cache`). UNLOGGED: a cache is worth nothing after a crash."""

    __tablename__ = "layer_cache"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territory.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(sa.BigInteger)
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


# -- walking routes (app/routes, migration 0014) ---------------------------------------------


class RouteGraph(db.Model):
    """The last build of a territory's walking graph (``flask routes build``)."""

    __tablename__ = "route_graph"

    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.BigInteger)  # new at every build
    nodes: Mapped[int] = mapped_column(sa.Integer)
    edges: Mapped[int] = mapped_column(sa.Integer)
    largest_share: Mapped[float] = mapped_column(sa.Float)  # edges in the largest component
    built_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class RouteNode(db.Model):
    """An intersection or dead end of the walking graph; ``component`` 0 is the largest."""

    __tablename__ = "route_node"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    component: Mapped[int] = mapped_column(sa.Integer)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class RouteEdge(db.Model):
    """A stretch of street between two nodes, walkable both ways (pgRouting's shape)."""

    __tablename__ = "route_edge"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[int] = mapped_column(sa.BigInteger)
    target: Mapped[int] = mapped_column(sa.BigInteger)
    length_m: Mapped[float] = mapped_column(sa.Float)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    highway: Mapped[str | None] = mapped_column(sa.String(40))
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False)


class RouteCost(db.Model):
    """Which perception the edge costs below were computed from: the public release
    (``basis`` public, ``source_version`` its latest release id) or the exact pins
    (``exact``, the territory's data version), for a time of day (``all`` or one of
    :data:`TIMES_OF_DAY`) and a workshop set (ids, comma-separated; empty for all)."""

    __tablename__ = "route_cost"
    __table_args__ = (
        sa.UniqueConstraint("territory_id", "basis", "time_of_day", "workshops"),
        sa.CheckConstraint("basis IN ('public', 'exact')", name="ck_route_cost_basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    basis: Mapped[str] = mapped_column(sa.String(10))
    time_of_day: Mapped[str] = mapped_column(sa.String(10))
    workshops: Mapped[str] = mapped_column(sa.String(400))
    graph_version: Mapped[int] = mapped_column(sa.BigInteger)
    source_version: Mapped[int] = mapped_column(sa.BigInteger)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class RouteEdgeCost(db.Model):
    """Normalised unsafe and safe densities along one edge (0 to 1; ``geo.routing``)."""

    __tablename__ = "route_edge_cost"

    cost_id: Mapped[int] = mapped_column(
        sa.ForeignKey("route_cost.id", ondelete="CASCADE"), primary_key=True
    )
    edge_id: Mapped[int] = mapped_column(
        sa.ForeignKey("route_edge.id", ondelete="CASCADE"), primary_key=True
    )
    # The edge's ends and length, copied: pgr_dijkstra reads this table alone (no join).
    source: Mapped[int] = mapped_column(sa.BigInteger)
    target: Mapped[int] = mapped_column(sa.BigInteger)
    length_m: Mapped[float] = mapped_column(sa.Float)
    unsafe: Mapped[float] = mapped_column(sa.Float)
    safe: Mapped[float] = mapped_column(sa.Float)


class Circuit(db.Model):
    """A named walking route coordinators publish ("circuit sécurisé"), with its last
    computed recommended and shortest paths (``result``, a GeoJSON FeatureCollection)."""

    __tablename__ = "circuit"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    origin = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    origin_label: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    destination = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    destination_label: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    waypoints: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    time_of_day: Mapped[str] = mapped_column(sa.String(10))
    published: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    result: Mapped[dict | None] = mapped_column(JSONB)
    computed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    release_id: Mapped[int | None] = mapped_column(sa.Integer)  # latest release it used
    created_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


# -- perception questionnaires (app/survey, migration 0015) ----------------------------------

QUESTION_KINDS = ("single", "multiple", "scale", "text", "map")
QUESTION_SECTIONS = ("main", "profile")
SURVEY_TEXT_STATUSES = ("pending", "approved", "rejected")


class QuestionSet(db.Model):
    """A territory's questions, versioned: every version of a set shares its ``lineage``.
    A version a questionnaire has answers for is never changed again (``frozen``); editing
    it makes the next version, and questions keep their ``key`` across versions, so two
    editions compare question by question."""

    __tablename__ = "question_set"
    __table_args__ = (sa.UniqueConstraint("territory_id", "lineage", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    lineage: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    frozen: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    questions: Mapped[list[Question]] = relationship(
        back_populates="question_set", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(db.Model):
    """One question. ``options`` lists ``{"key", "label_fr", "label_en"}`` for choices and
    scales (a scale has four, from the best to the worst); ``allow_other`` adds "autre"
    with a short text; a ``map`` question is answered with pins (the questionnaire's
    workshop code, as today)."""

    __tablename__ = "question"
    __table_args__ = (
        sa.UniqueConstraint("question_set_id", "key"),
        sa.CheckConstraint(f"kind IN {QUESTION_KINDS}", name="ck_question_kind"),
        sa.CheckConstraint(f"section IN {QUESTION_SECTIONS}", name="ck_question_section"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_set_id: Mapped[int] = mapped_column(
        sa.ForeignKey("question_set.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(10))
    section: Mapped[str] = mapped_column(sa.String(10), default="main", server_default="main")
    label_fr: Mapped[str] = mapped_column(sa.Text)
    label_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    help_fr: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    help_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    options: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    allow_other: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    question_set: Mapped[QuestionSet] = relationship(back_populates="questions")


class Survey(db.Model):
    """A questionnaire: a question set open between two dates (inclusive, in the
    territory's time zone). Its ``workshop`` (kind ``questionnaire``) holds the public code
    and the map question's pins, so pins flow into layers and releases as before."""

    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), unique=True
    )
    question_set_id: Mapped[int] = mapped_column(sa.ForeignKey("question_set.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)  # the workshop's join code
    title: Mapped[str] = mapped_column(sa.String(200))
    opens_on: Mapped[date] = mapped_column(sa.Date)
    closes_on: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    question_set: Mapped[QuestionSet] = relationship()


class SurveyResponse(db.Model):
    """One device's answers. The id is made by the browser and kept there: sending again
    replaces, never doubles. No IP address or device identifier is stored. ``answers``
    maps question keys to an option key, a list of option keys (``"other"`` for "autre")
    or, for a map question, the ids of the pins placed; free text is in
    :class:`SurveyText`, moderated."""

    __tablename__ = "survey_response"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    answers: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    # The quartier the respondent lives in (the "quartier" answer), None for users.
    quartier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("quartier.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class SurveyText(db.Model):
    """Free text of one response to one question ("autre" included): pending until a
    coordinator approves it, and only ever shown to coordinators and police."""

    __tablename__ = "survey_text"
    __table_args__ = (
        sa.UniqueConstraint("response_id", "question_key"),
        sa.CheckConstraint(f"status IN {SURVEY_TEXT_STATUSES}", name="ck_survey_text_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("survey_response.id", ondelete="CASCADE")
    )
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    question_key: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", server_default="pending")
    moderated_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    moderated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class SurveyRelease(db.Model):
    """The public release of a questionnaire's answers: noisy, k-thresholded counts per
    question and option, overall, by quartier and by profile answer, made on a schedule
    while it is open and once when it closes. Every public figure is read from here."""

    __tablename__ = "survey_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    made_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    final: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    epsilon: Mapped[float] = mapped_column(sa.Float)  # per response, all tables together
    k: Mapped[int] = mapped_column(sa.Integer)
    tables: Mapped[dict] = mapped_column(JSONB)
