"""Database models. Geometries are stored in EPSG:4326; measures use the territory's metric CRS."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
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
    metric_srid: Mapped[int] = mapped_column(sa.Integer)
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
