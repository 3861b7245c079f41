"""``proeftuin check-config``: a production configuration is checked and what is wrong is said in
plain words, with a non-zero exit; secrets are never printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from proeftuin import config, migrate
from proeftuin.cli import main
from proeftuin.web.ops import check_production

SECRET = "s3cret-key-" + "k" * 40
PEPPER = "pepper-value-" + "p" * 40


def production_env(database_url: str, tmp_path: Path, **changes: str | None) -> dict[str, str]:
    env: dict[str, str | None] = dict.fromkeys(config.SETTINGS)
    env |= {
        "PROEFTUIN_ENV": "production",
        "PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "PROEFTUIN_DATABASE_URL": database_url,
        "PROEFTUIN_SECRET_KEY": SECRET,
        "PROEFTUIN_CODE_PEPPER": PEPPER,
        "PROEFTUIN_BASE_URL": "https://burgerbegroting.gemeente.example",
        "PROEFTUIN_SMTP_HOST": "smtp.gemeente.example",
        "PROEFTUIN_MAIL_FROM": "Burgerbegroting <noreply@gemeente.example>",
        "PROEFTUIN_TRUSTED_PROXIES": "10.0.0.2",
    }
    env |= changes
    return {k: v for k, v in env.items() if v is not None}


def check(env: dict[str, str]) -> Result:
    # Every setting not named is removed, so the test does not depend on the caller's shell.
    full: dict[str, str | None] = {**dict.fromkeys(config.SETTINGS), **env}
    return CliRunner().invoke(main, ["check-config"], env=full)


def test_a_complete_configuration_passes(database_url: str, tmp_path: Path) -> None:
    result = check(production_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert "ready for production" in result.output


def test_an_empty_environment_gets_every_problem_named(tmp_path: Path) -> None:
    result = check({"PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance")})
    assert result.exit_code == 1
    for named in (
        "PROEFTUIN_ENV",
        "PROEFTUIN_SECRET_KEY",
        "PROEFTUIN_CODE_PEPPER",
        "PROEFTUIN_BASE_URL",
        "PROEFTUIN_DATABASE_URL",
        "PROEFTUIN_SMTP_HOST",
        "PROEFTUIN_MAIL_FROM",
    ):
        assert named in result.output
    assert "not ready for production" in result.output
    # Judged as production: nothing was generated in the instance folder.
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"PROEFTUIN_ENV": "development"}, "set it to 'production'"),
        ({"PROEFTUIN_BASE_URL": "http://burgerbegroting.gemeente.example"}, "https://"),
        ({"PROEFTUIN_SECRET_KEY": "short"}, "PROEFTUIN_SECRET_KEY must be set"),
        ({"PROEFTUIN_CODE_PEPPER": SECRET}, "are the same"),
        ({"PROEFTUIN_SMTP_HOST": None}, "PROEFTUIN_SMTP_HOST is not set"),
        ({"PROEFTUIN_TRUSTED_PROXIES": "10.0.0.2,proxy.local"}, "'proxy.local' is not an IP"),
        ({"PROEFTUIN_SMTP_PORT": "smtp"}, "PROEFTUIN_SMTP_PORT must be a whole number"),
    ],
)
def test_each_problem_is_said_in_plain_words(
    tmp_path: Path, changes: dict[str, str | None], expected: str
) -> None:
    url = f"sqlite:///{tmp_path / 'proeftuin.db'}"
    migrate.upgrade(url)
    result = check(production_env(url, tmp_path, **changes))
    assert result.exit_code == 1
    assert expected in result.output
    assert SECRET not in result.output and PEPPER not in result.output


def test_a_database_that_is_behind_must_be_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = check(production_env(url, tmp_path))
    assert result.exit_code == 1
    assert "run `proeftuin db upgrade`" in result.output


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://proeftuin:geheim-wachtwoord@127.0.0.1:1/proeftuin"
    result = check(production_env(url, tmp_path))
    assert result.exit_code == 1
    assert "cannot be reached" in result.output
    assert "127.0.0.1:1/proeftuin" in result.output
    assert "geheim-wachtwoord" not in result.output


def test_warnings_do_not_fail_the_check(database_url: str, tmp_path: Path) -> None:
    env = production_env(
        database_url, tmp_path, PROEFTUIN_TRUSTED_PROXIES=None, PROEFTUIN_JOBS_INTERVAL="0"
    )
    report = check_production(env)
    assert report.ok, report.problems
    joined = " ".join(report.warnings)
    assert "PROEFTUIN_TRUSTED_PROXIES is empty" in joined
    assert "proeftuin jobs run-once" in joined
    result = check(env)
    assert result.exit_code == 0
    assert "Note: PROEFTUIN_JOBS_INTERVAL is 0" in result.output
