"""Alembic environment: the URL comes from the caller (proeftuin.migrate) or from the settings."""

from alembic import context
from sqlalchemy import create_engine, pool

from proeftuin import models  # noqa: F401  (registers every table on the metadata)
from proeftuin.config import load_settings
from proeftuin.db import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import the app: write our UTC type as the plain column type it wraps.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `proeftuin db upgrade`.")
run_migrations_online()
