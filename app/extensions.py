"""Extension objects, created unbound and attached to the app in ``create_app``."""

from flask import current_app, g, has_request_context
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class RoutingSession(Session):
    """Flask-SQLAlchemy's session; in a read-only view (``g.prefer_replica``) the app's
    ``read_engine`` (set by :mod:`app.replica` when a replica is configured) may send a
    plain read to the streaming replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_request_context() and g.get("prefer_replica"):
            read_engine = current_app.extensions.get("read_engine")
            engine = read_engine(clause) if read_engine else None
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


# Objects stay readable after commit: views serialise what they just wrote without a
# second round trip.
db = SQLAlchemy(
    model_class=Base, session_options={"class_": RoutingSession, "expire_on_commit": False}
)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
