"""The ``proeftuin`` command: a thin layer over the same core the web app uses."""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import click

from proeftuin import migrate
from proeftuin.allocation import pabulib, report
from proeftuin.allocation.ties import TieBreak
from proeftuin.config import ConfigError, Settings, load_settings
from proeftuin.db import connect, transact
from proeftuin.errors import DomainError
from proeftuin.models import Role
from proeftuin.services import accounts, codes, demo


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        _fail(str(error), code=1)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group()
def main() -> None:
    """Proeftuin: participatory budgeting for Dutch municipalities."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    _settings()  # refuse to start on a bad configuration, before any worker does
    uvicorn.run(
        "proeftuin.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=False,  # X-Forwarded-For is judged by our own trusted-proxy setting
        server_header=False,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema (a no-op when it is there already)."""
    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)
    click.echo("Database is up to date.")


@main.command("demo")
def demo_command() -> None:
    """Fill the database with a demo gemeente (idempotent) and list demo letter codes."""
    settings = _settings()
    database = connect(settings.database_url)
    summary = transact(database, demo.seed_demo, settings.code_pepper)
    database.dispose()
    click.echo("Demo gemeente created." if summary.created else "Demo gemeente already there.")
    click.echo(
        f"Vote in the demo round at {settings.base_url}/stem with one of these letter codes:"
    )
    for code in summary.codes:
        click.echo(f"  {codes.display(code)}")


@main.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a staff account with the admin role."""
    settings = _settings()
    database = connect(settings.database_url)
    try:
        transact(database, accounts.create_staff, email, name, password, Role.ADMIN)
    except DomainError as error:
        _fail(error.message.format(**error.params), code=2)
    finally:
        database.dispose()
    click.echo(f"Admin {email} created.")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rule", type=click.Choice(report.RULES), default="equal-shares", show_default=True)
@click.option(
    "--utility",
    type=click.Choice(report.UTILITIES),
    default="cost",
    show_default=True,
    help="Equal shares: utility of a supporter (cost of the plan, or one per plan).",
)
@click.option(
    "--completion",
    type=click.Choice(report.COMPLETIONS),
    default="add1-greedy",
    show_default=True,
    help="Equal shares: how left-over budget is spent.",
)
@click.option(
    "--tie-break",
    type=click.Choice([t.value for t in TieBreak]),
    default=TieBreak.LOTTERY.value,
    show_default=True,
)
@click.option("--seed", default="", help="Seed of the tie-break lottery (published with results).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def allocate(
    file: str,
    rule: str,
    utility: str,
    completion: str,
    tie_break: str,
    seed: str,
    as_json: bool,
) -> None:
    """Run an allocation rule on a Pabulib FILE and say which plans are funded, and why."""
    try:
        election = pabulib.read_pb(file)
    except (pabulib.PabulibError, OSError, UnicodeDecodeError) as error:
        _fail(f"{file}: {error}", code=2)
    outcome = report.allocate(
        election,
        rule,
        utility=utility,
        completion=completion,
        tie_break=TieBreak(tie_break),
        seed=seed,
    )
    if as_json:
        click.echo(json.dumps(report.report_json(election, outcome), indent=2, ensure_ascii=False))
    else:
        click.echo(report.format_report(election, outcome))
