"""The ``proeftuin`` command: a thin layer over the same core the web app uses.

Each command imports the database, services or web stack it needs when it runs, so that a command
that needs none of them (``allocate``) starts fast.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import NoReturn

import click

from proeftuin.allocation import batch, report
from proeftuin.allocation.ties import TieBreak
from proeftuin.config import ConfigError, Settings, follow_served_address, load_settings
from proeftuin.errors import DomainError, NotFound


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

    served = follow_served_address(host, port)
    if served:
        click.echo(f"Development: PROEFTUIN_BASE_URL is {served}, the address served.")
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
        # Ours (PROEFTUIN_ACCESS_LOG, web/ops.py) leaves out IP addresses and query strings.
        access_log=False,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema (a no-op when it is there already)."""
    from proeftuin import migrate

    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)
    click.echo("Database is up to date.")


@main.command("demo")
def demo_command() -> None:
    """Fill the database with a demo gemeente (idempotent) and list demo letter codes."""
    from proeftuin import demo
    from proeftuin.db import connect, transact
    from proeftuin.services import codes

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
    for district, event_codes in summary.event_codes.items():
        click.echo(f"Vote in the demo stemming (district and city-wide) for {district} with:")
        for code in event_codes:
            click.echo(f"  {codes.display(code)}")


@main.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a staff account with the admin role."""
    from proeftuin.db import connect, transact
    from proeftuin.models import Role
    from proeftuin.services import accounts

    settings = _settings()
    database = connect(settings.database_url)
    try:
        transact(database, accounts.create_staff, email, name, password, Role.ADMIN)
    except DomainError as error:
        _fail(error.message.format(**error.params), code=2)
    finally:
        database.dispose()
    click.echo(f"Admin {email} created.")


_ORDINAL_HELP = (
    "How ordinal (ranked) ballots are counted: points by rank (of rankings of at most k plans, k "
    "from META max_length, the first gets k points, the next one less; the file's own points per "
    "rank when it gives them), or approval of the ranked plans (as pabutools reads them). "
    "Approval ballots count approvals, cumulative ballots their points. The reading used is named "
    "in the output."
)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--rule",
    type=click.Choice([*report.RULES, "official"]),
    default="equal-shares",
    show_default=True,
    help="official: the rule the file's META names (greedy, greedy-threshold, greedy-no-skip, "
    "greedy-exclusive, greedy-custom, equalshares...), as the city ran it.",
)
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
    "--threshold",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="greedy and greedy-no-skip: the support a plan needs at least to be funded.",
)
@click.option(
    "--ordinal",
    type=click.Choice(["points-by-rank", "approval"]),
    default="points-by-rank",
    show_default=True,
    help=_ORDINAL_HELP,
)
@click.option(
    "--tie-break",
    type=click.Choice([t.value for t in TieBreak]),
    default=TieBreak.LOTTERY.value,
    show_default=True,
)
@click.option("--seed", default="", help="Seed of the tie-break lottery (published with results).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON Lines: one object per file, not a table."
)
@click.option(
    "--check-official",
    is_flag=True,
    help="Compare each outcome with the file's official one (its selected column), print a "
    "summary per rule and exit with 1 when any differs or cannot be computed.",
)
def allocate(
    files: tuple[str, ...],
    rule: str,
    utility: str,
    completion: str,
    threshold: int,
    ordinal: str,
    tie_break: str,
    seed: str,
    as_json: bool,
    check_official: bool,
) -> None:
    """Run an allocation rule on Pabulib FILES (or folders of .pb files): which plans are funded,
    and why; with --rule official, the rule each file names, compared with the city's outcome."""
    if threshold and rule not in ("greedy", "greedy-no-skip"):
        _fail("--threshold applies to --rule greedy and greedy-no-skip only", code=2)
    options = batch.Options(
        rule, utility, completion, TieBreak(tie_break), seed, threshold, ordinal
    )
    paths = list(batch.pb_files(files))
    if not paths:
        _fail(f"no .pb files in {', '.join(files)}", code=2)
    runs = []
    for path in paths:
        run = batch.run_file(path, options)
        runs.append(run)
        if run.error is not None:
            click.echo(f"Error: {path}: {run.error}", err=True)
        elif run.problem is not None:
            click.echo(f"{path}: cannot run the file's rule: {run.problem}", err=True)
        if as_json:
            click.echo(json.dumps(run.record(), ensure_ascii=False))
        elif len(paths) == 1 and run.outcome is not None and run.election is not None:
            click.echo(
                report.format_report(run.election, run.outcome, run.support(), _preamble(run))
            )
        elif len(paths) > 1 and run.error is None:
            click.echo(_one_line(run))
    if check_official:
        tallies = batch.summary(runs)
        for line in batch.summary_lines(tallies):
            click.echo(line, err=as_json)
        for run in runs:
            if run.error is None and run.selection is not None and not run.matches_official:
                why = run.official.reasons if run.official is not None else ()
                because = "; ".join([run.problem] if run.problem else why) or "no reason known"
                click.echo(f"  not reproduced: {run.file}: {because}", err=as_json)
    if any(run.error is not None for run in runs):
        sys.exit(2)
    if check_official and any(tally.differ for tally in batch.summary(runs).values()):
        sys.exit(1)


def _preamble(run: batch.FileRun) -> list[str]:
    lines = [f"Ballots: {run.reading}"]
    if run.official is not None:
        lines.append(f"The file's rule (META): {run.rule}")
    lines.extend(f"Note: {note}" for note in run.notes)
    lines.append(f"Official outcome: {_official_words(run)}")
    if run.matches_official is False and run.official is not None:
        lines.extend(f"  {reason}" for reason in run.official.reasons)
    return lines


def _official_words(run: batch.FileRun) -> str:
    if run.selection is None:
        return "not in the file"
    if run.matches_official:
        return "reproduced"
    record = run.record()
    missing = ", ".join(record.get("official_not_selected", [])) or "none"
    extra = ", ".join(record.get("selected_not_official", [])) or "none"
    return f"differs (funded by the city only: {missing}; funded here only: {extra})"


def _one_line(run: batch.FileRun) -> str:
    if run.outcome is None:
        return f"{run.file}: {run.rule}: not run ({run.problem})"
    return (
        f"{run.file}: {run.rule}: {len(run.outcome.selected)} plans funded; "
        f"official outcome {_official_words(run)}"
    )


@main.command()
def tick() -> None:
    """Move rounds whose phase dates have passed to their next phase (run it every few minutes)."""
    from proeftuin.db import connect, transact, utcnow
    from proeftuin.services import rounds

    settings = _settings()
    database = connect(settings.database_url)
    try:
        changes = transact(database, rounds.tick, utcnow())
    finally:
        database.dispose()
    for change in changes:
        step = f"{change.slug}: {change.from_phase.value} -> {change.to_phase.value}"
        if change.refused:
            click.echo(f"{step} refused: {change.refused}")
        else:
            click.echo(step)
    if not changes:
        click.echo("No round is due for a next phase.")


@main.group("codes")
def codes_group() -> None:
    """Letter codes."""


@codes_group.command("generate")
@click.argument("round_slug")
# The largest batch is the service's to check (services.codes.MAX_BATCH).
@click.option("-n", "count", type=click.IntRange(min=1), required=True)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="New file for the codes, one per row in the 4-4-4 form (an existing file is refused).",
)
@click.option(
    "--as-admin",
    "admin_email",
    default=None,
    help="The admin named in the audit log; may be left out when there is exactly one.",
)
def codes_generate(round_slug: str, count: int, csv_path: str, admin_email: str | None) -> None:
    """Make COUNT codes for a round and write them to a CSV file for mail merge.

    The plain codes exist only in that file: the database keeps their HMACs. The file is
    created readable by you alone; delete it once the letters are printed.
    """
    from proeftuin.db import connect, transact
    from proeftuin.services import lookup
    from proeftuin.services.pages import codes as code_pages
    from proeftuin.services.pages.declare import perform_now

    settings = _settings()
    try:
        # Created before the codes are, so a bad path cannot lose a batch that was just made.
        fd = os.open(csv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        _fail(f"{csv_path}: {error.strerror}", code=2)
    database = connect(settings.database_url)
    text = None
    try:
        actor = transact(database, lookup.acting_admin, admin_email)
        text = perform_now(
            database, code_pages.generate_csv, actor, round_slug, count, settings.code_pepper
        )
    except DomainError as error:
        message = error.message.format(**error.params)
        if isinstance(error, NotFound):
            message = f"no round with the slug {round_slug!r}"
        _fail(message, code=2)
    finally:
        database.dispose()
        if text is None:  # nothing was made: leave no empty file behind
            os.close(fd)
            os.unlink(csv_path)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    click.echo(f"{count} codes for {round_slug} written to {csv_path}.")


# -- Operations (deploy/README.md) -----------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
@click.option(
    "--head",
    "expected",
    default=None,
    help="A chain head printed earlier (on a proces-verbaal): it must still be in the log.",
)
def audit_verify(expected: str | None) -> None:
    """Check that no audit event was changed, removed or inserted since it was written."""
    from proeftuin.db import connect, read
    from proeftuin.services import audit

    settings = _settings()
    database = connect(settings.database_url)
    try:
        check = read(database, audit.verify_chain, expected.strip().lower() if expected else None)
    finally:
        database.dispose()
    for problem in check.problems:
        click.echo(f"BROKEN: {problem}")
    if check.head_found is False:
        click.echo(f"BROKEN: {expected} is not in the log: it was cut short or rewritten since")
    if not check.ok:
        _fail(f"The audit log of {check.events} events is not intact.")
    click.echo(f"The audit log is intact: {check.events} events, chain head {check.head}.")


@main.command("check-config")
def check_config() -> None:
    """Check that this environment is a working production configuration; say what is wrong.

    Judged as production whatever PROEFTUIN_ENV says; connects to the database, changes nothing.
    """
    from proeftuin.web import ops

    result = ops.check_production(os.environ)
    for warning in result.warnings:
        click.echo(f"Note: {warning}")
    if not result.ok:
        click.echo("This configuration is not ready for production:", err=True)
        for problem in result.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    click.echo("The configuration is ready for production.")


@main.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs: phase changes at their dates, sending queued mail, pruning."""


@jobs_group.command("run-once")
def jobs_run_once() -> None:
    """Run the scheduled jobs once (from a timer, when PROEFTUIN_JOBS_INTERVAL is 0).

    When another server is running them at this moment this one does nothing: they are being done.
    """
    from proeftuin import jobs
    from proeftuin.db import connect

    settings = _settings()
    database = connect(settings.database_url)
    try:
        run = jobs.run_once(database, settings)
    finally:
        database.dispose()
    if not run.ran:
        click.echo("Another process is running the scheduled jobs right now; nothing done.")
        return
    for change in run.phase_changes:
        step = f"{change.slug}: {change.from_phase.value} -> {change.to_phase.value}"
        click.echo(f"{step} refused: {change.refused}" if change.refused else step)
    click.echo(f"Mail sent: {run.mails_sent}. Rate-limit rows pruned: {run.rate_limits_pruned}.")
    if run.failed:
        _fail("these jobs failed (see above): " + ", ".join(run.failed))


@main.command("export-db")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def export_db(file: str) -> None:
    """Write the whole database to FILE as JSON lines (FILE.gz: compressed; -: standard output).

    The file holds personal data (e-mail addresses): it is created readable by you alone. The
    code pepper is not in it; keep that in your secret store, or no code can be checked after a
    restore.
    """
    import contextlib
    import gzip
    import io

    from proeftuin import backup
    from proeftuin.db import connect

    settings = _settings()
    database = connect(settings.database_url)
    try:
        if file == "-":
            summary = backup.export_db(database, sys.stdout, settings.code_pepper)
        else:
            partial = f"{file}.partial"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with contextlib.ExitStack() as stack:
                raw = stack.enter_context(os.fdopen(fd, "wb"))
                out = stack.enter_context(
                    gzip.open(raw, "wt", encoding="utf-8")  # noqa: SIM115 (the stack closes it)
                    if file.endswith(".gz")
                    else io.TextIOWrapper(raw, encoding="utf-8")
                )
                summary = backup.export_db(database, out, settings.code_pepper)
            os.replace(partial, file)  # a file by the final name is always a whole export
    except backup.BackupError as error:
        _fail(str(error), code=2)
    finally:
        database.dispose()
    click.echo(
        f"Exported {summary.total} rows from {len(summary.counts)} tables "
        f"(schema revision {summary.revision}).",
        err=file == "-",
    )


@main.command("import-db")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--allow-other-pepper",
    is_flag=True,
    help="Restore although this server's code pepper differs from the export's.",
)
def import_db(file: str, allow_other_pepper: bool) -> None:
    """Restore an export of `proeftuin export-db` into an empty, migrated database.

    Run `proeftuin db upgrade` on the new database first. All or nothing: on any problem nothing
    is restored.
    """
    import gzip

    from proeftuin import backup
    from proeftuin.db import connect

    settings = _settings()
    database = connect(settings.database_url)
    try:
        if file == "-":
            summary = backup.import_db(
                database, sys.stdin, settings.code_pepper, allow_other_pepper=allow_other_pepper
            )
        else:
            with (
                gzip.open(file, "rt", encoding="utf-8")
                if file.endswith(".gz")
                else open(file, encoding="utf-8")
            ) as source:
                summary = backup.import_db(
                    database, source, settings.code_pepper, allow_other_pepper=allow_other_pepper
                )
    except backup.BackupError as error:
        _fail(str(error), code=2)
    finally:
        database.dispose()
    click.echo(f"Restored {summary.total} rows into {len(summary.counts)} tables.")


# -- Retention (AVG) -------------------------------------------------------------------------


@main.command("purge")
@click.option(
    "--retention-days",
    type=click.IntRange(min=0),
    default=None,
    help="Days after a round's result was published (default: services/retention.RETENTION).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
def purge_command(retention_days: int | None, dry_run: bool) -> None:
    """Remove personal data that has outlived its use: letter codes and ballot keys of finished
    rounds, residents' addresses, old staff sessions, spent links, old mail and rate-limit rows.

    Anonymous ballots and results stay. Run it daily (it is safe to repeat).
    """
    from proeftuin.db import connect, rehearse, transact, utcnow
    from proeftuin.services import retention

    settings = _settings()
    keep = retention.RETENTION if retention_days is None else dt.timedelta(days=retention_days)
    database = connect(settings.database_url)
    try:
        run = rehearse if dry_run else transact
        purged = run(database, retention.purge, utcnow(), keep)
    finally:
        database.dispose()
    verb = "Would remove" if dry_run else "Removed"
    click.echo(
        f"{verb} (retention {keep.days} days): {purged.codes} letter codes and "
        f"{purged.ballot_keys} ballot keys of {len(purged.rounds)} finished rounds, "
        f"{purged.residents} residents' details, {purged.staff_sessions} staff sessions, "
        f"{purged.used_tokens} spent sign-in links, {purged.outbox} mails, "
        f"{purged.rate_limits} rate-limit rows."
    )
    for slug in purged.rounds:
        click.echo(f"  {slug}")
