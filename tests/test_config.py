from __future__ import annotations

import re
from pathlib import Path

import pytest

from proeftuin import config
from proeftuin.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_that_config_reads_is_listed_and_documented() -> None:
    read = set(re.findall(r'"(PROEFTUIN_[A-Z_]+)"', Path(config.__file__).read_text()))
    readme = (ROOT / "README.md").read_text()
    assert read == set(config.SETTINGS)
    undocumented = [name for name in read if f"`{name}`" not in readme]
    assert undocumented == []


def test_development_generates_and_keeps_secrets_in_the_instance_folder(tmp_path: Path) -> None:
    env = {"PROEFTUIN_INSTANCE_PATH": str(tmp_path)}
    first = load_settings(env)
    second = load_settings(env)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert first.code_pepper == second.code_pepper != first.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path / 'proeftuin.db'}"


def test_another_instance_gets_another_secret(tmp_path: Path) -> None:
    a = load_settings({"PROEFTUIN_INSTANCE_PATH": str(tmp_path / "a")})
    b = load_settings({"PROEFTUIN_INSTANCE_PATH": str(tmp_path / "b")})
    assert a.secret_key != b.secret_key


def test_production_refuses_without_secret_key_and_https(tmp_path: Path) -> None:
    env = {"PROEFTUIN_ENV": "production", "PROEFTUIN_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    message = str(error.value)
    assert "PROEFTUIN_SECRET_KEY" in message
    assert "https://" in message
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_a_complete_configuration(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "PROEFTUIN_ENV": "production",
            "PROEFTUIN_SECRET_KEY": "s" * 40,
            "PROEFTUIN_CODE_PEPPER": "p" * 40,
            "PROEFTUIN_BASE_URL": "https://burgerbegroting.example.nl/",
            "PROEFTUIN_DATABASE_URL": "postgresql+psycopg://app@db/proeftuin",
        }
    )
    assert settings.production
    assert settings.base_url == "https://burgerbegroting.example.nl"


@pytest.mark.parametrize(
    ("name", "value"), [("PROEFTUIN_ENV", "staging"), ("PROEFTUIN_SMTP_PORT", "twenty-five")]
)
def test_bad_values_are_refused_with_the_setting_named(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"PROEFTUIN_INSTANCE_PATH": str(tmp_path), name: value})
