"""The deployment files, checked as far as a machine without a Docker engine allows: the compose
file parses and names real files and real commands, the Dockerfile's stages and user are right,
env.example lists every setting, and the systemd units parse and start real commands."""

from __future__ import annotations

import configparser
import ipaddress
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from proeftuin import config
from proeftuin.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("proeftuin*.*"))
VENV_PROEFTUIN = Path(sys.executable).parent / "proeftuin"
INSTALLED_PROEFTUIN = "/opt/proeftuin/venv/bin/proeftuin"


def proeftuin(*args: str) -> Result:
    """``proeftuin ARGS``, in this process (a subprocess per --help would take seconds)."""
    return CliRunner().invoke(main, list(args))


def options_of(*command: str) -> set[str]:
    """The long options a ``proeftuin`` (sub)command accepts, from its --help."""
    shown = proeftuin(*command, "--help")
    assert shown.exit_code == 0, shown.output
    return set(re.findall(r"(--[a-z][a-z-]*)", shown.output))


def check_proeftuin_command(argv: list[str]) -> None:
    """``argv`` (after the program) names a real subcommand, with options it accepts."""
    words = [a for a in argv if not a.startswith("-")]
    flags = [a.split("=")[0] for a in argv if a.startswith("--")]
    # The subcommand path: the leading words that --help accepts as a command.
    path: list[str] = []
    for word in words:
        if proeftuin(*path, word, "--help").exit_code != 0:
            break
        path.append(word)
    assert path, f"no proeftuin command in {argv}"
    unknown = set(flags) - options_of(*path)
    assert not unknown, f"proeftuin {' '.join(path)} has no option {sorted(unknown)}"


# -- compose.yaml ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    return shlex.split(command) if isinstance(command, str) else list(command or [])


def test_every_service_has_an_image_or_a_build_with_real_files(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"db", "migrate", "app1", "app2", "proxy"}
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        image = service.get("image", "")
        # A plain image name: nothing here names a registry host.
        assert "." not in image.split("/")[0].split(":")[0], f"{name}: {image}"
        build = service.get("build")
        if build:
            context = (DEPLOY / build["context"]).resolve()
            assert (context / "pyproject.toml").is_file(), name
            assert (context / build["dockerfile"]).is_file(), name
        for env_file in _as_list(service.get("env_file")):
            # Made from env.example by the operator (deploy/README.md) and kept out of git.
            assert env_file == "proeftuin.env", name
            assert "proeftuin.env" in (DEPLOY / ".gitignore").read_text().split()
            assert "cp env.example proeftuin.env" in (DEPLOY / "README.md").read_text()
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (DEPLOY / source).exists(), f"{name}: {source} is missing"


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]


def test_migrations_are_a_separate_one_shot_step_before_the_app_servers(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert command_of(migrate) == ["proeftuin", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    check_proeftuin_command(command_of(migrate)[1:])
    for name in ("app1", "app2"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_two_app_servers_run_proeftuin_serve_with_valid_flags(compose: dict[str, Any]) -> None:
    services = compose["services"]
    serve_options = options_of("serve")
    for name in ("app1", "app2"):
        command = command_of(services[name])
        assert command[:2] == ["proeftuin", "serve"], name
        flags = {a for a in command if a.startswith("--")}
        assert flags <= serve_options, f"{name}: {flags - serve_options}"
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert int(command[command.index("--workers") + 1]) >= 2
        assert "ports" not in services[name], f"{name} must only be reached through the proxy"
    assert "ports" not in services["db"]


def test_the_app_servers_trust_only_the_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    proxy_address = services["proxy"]["networks"]["backend"]["ipv4_address"]
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    for name in ("migrate", "app1", "app2"):
        environment = services[name]["environment"]
        assert environment["PROEFTUIN_TRUSTED_PROXIES"] == proxy_address
        assert environment["PROEFTUIN_ENV"] == "production"
        assert environment["PROEFTUIN_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@db:5432/" in environment["PROEFTUIN_DATABASE_URL"]
    assert {"80:80", "443:443"} <= set(services["proxy"]["ports"])


def test_the_proxy_serves_https_and_forwards_to_both_app_servers() -> None:
    lines = (DEPLOY / "Caddyfile").read_text().splitlines()
    caddyfile = "\n".join(line for line in lines if not line.strip().startswith("#"))
    assert "{$PROEFTUIN_DOMAIN}" in caddyfile  # a host name: Caddy gets a certificate for it
    assert re.search(r"reverse_proxy\s+app1:8000\s+app2:8000", caddyfile)
    assert "health_uri /readyz" in caddyfile
    # No trusted_proxies: Caddy replaces a visitor's own X-Forwarded-For with the real address.
    assert "trusted_proxies" not in caddyfile


def test_the_nginx_example_sets_forwarded_headers_and_tls() -> None:
    nginx = (DEPLOY / "nginx" / "proeftuin.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "$proxy_add_x_forwarded_for" not in nginx  # would pass on what the visitor sent
    assert re.search(r"listen 443 ssl", nginx) and "ssl_certificate " in nginx
    assert "return 301 https://" in nginx
    assert "server 127.0.0.1:8000" in nginx
    log_format = re.search(r"log_format proeftuin ([^;]*);", nginx)
    assert log_format and "$remote_addr" not in log_format.group(1)
    assert "$request_uri" not in log_format.group(1)  # the query string may hold a code
    assert "$remote_addr" not in nginx.split("location /")[0].split("log_format")[0]


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed here")
def test_nginx_accepts_the_example(tmp_path: Path) -> None:  # pragma: no cover (no nginx in CI)
    main = tmp_path / "nginx.conf"
    main.write_text(f"events {{}}\nhttp {{\n include {DEPLOY / 'nginx' / 'proeftuin.conf'};\n}}\n")
    checked = subprocess.run(["nginx", "-t", "-c", str(main)], capture_output=True, text=True)
    assert "syntax is ok" in checked.stderr


# -- env.example -----------------------------------------------------------------------------


def test_env_example_lists_every_setting_with_a_comment() -> None:
    lines = (DEPLOY / "env.example").read_text().splitlines()
    named = {}
    for number, line in enumerate(lines):
        match = re.match(r"#?\s*(PROEFTUIN_[A-Z_]+)=", line)
        if match:
            named.setdefault(match.group(1), number)
    assert set(named) == set(config.SETTINGS)
    for name, number in named.items():
        above = lines[number - 1]
        assert above.startswith("#") or re.match(r"PROEFTUIN_[A-Z_]+=", above), (
            f"{name} has no comment above it"
        )


def test_env_example_values_are_accepted_once_the_secrets_are_filled_in(tmp_path: Path) -> None:
    values: dict[str, str] = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        match = re.match(r"(PROEFTUIN_[A-Z_]+)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2).strip().strip('"')
    assert values["PROEFTUIN_ENV"] == "production"
    assert values["PROEFTUIN_SECRET_KEY"] == values["PROEFTUIN_CODE_PEPPER"] == ""
    values |= {
        "PROEFTUIN_SECRET_KEY": "k" * 40,
        "PROEFTUIN_CODE_PEPPER": "p" * 40,
        "PROEFTUIN_DATABASE_URL": "postgresql+psycopg://proeftuin:x@db/proeftuin",
        "PROEFTUIN_INSTANCE_PATH": str(tmp_path),
    }
    settings = config.load_settings(values)
    assert settings.production and settings.smtp_starttls
    assert settings.trusted_proxies == ("127.0.0.1",)


# -- The Dockerfile --------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text()
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [(item.split(None, 1)[0].upper(), item.split(None, 1)[1]) for item in logical]


def stages() -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    name = ""
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            match = re.match(r"(\S+)\s+AS\s+(\S+)", arguments, re.IGNORECASE)
            assert match, f"every stage is named: FROM {arguments}"
            name = match.group(2)
            found[name] = []
        if name:
            found[name].append((instruction, arguments))
    return found


def test_the_dockerfile_builds_assets_and_a_wheel_and_runs_as_a_user() -> None:
    found = stages()
    assert list(found) == ["assets", "build", "runtime"]
    args = {
        a.split("=")[0]: a.split("=", 1)[1]
        for i, a in dockerfile_instructions()
        if i == "ARG" and "=" in a
    }
    images = [found[s][0][1].split()[0] for s in found]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], i) for i in images]
    assert resolved[0].startswith("node:")
    assert all(r.startswith("python:3.11") for r in resolved[1:])
    for image in resolved:
        assert "." not in image.split("/")[0].split(":")[0]  # no registry host

    assets = " ".join(a for i, a in found["assets"] if i == "RUN")
    assert "npm ci" in assets and "npm run --silent build" in assets
    build = " ".join(a for i, a in found["build"] if i == "RUN")
    assert "pip wheel" in build and "pybabel compile" in build
    assert ("COPY", "--from=assets /src/static/vendor/ static/vendor/") in found["build"]
    assert "servestatic --hash --manifest --compress" in build  # as make assets does

    runtime = found["runtime"]
    users = [a for i, a in runtime if i == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    healthcheck = [a for i, a in runtime if i == "HEALTHCHECK"]
    assert healthcheck and "/healthz" in healthcheck[0]
    [cmd] = [a for i, a in runtime if i == "CMD"]
    command = yaml.safe_load(cmd)  # the exec form is a JSON list
    assert command[:2] == ["proeftuin", "serve"]
    assert {a for a in command if a.startswith("--")} <= options_of("serve")
    # Migrating is a separate step, never part of starting a server.
    assert all("db upgrade" not in a for i, a in runtime if i in ("CMD", "ENTRYPOINT", "RUN"))


def test_the_dockerfile_copies_only_what_exists() -> None:
    for instruction, arguments in dockerfile_instructions():
        if instruction not in ("COPY", "ADD") or arguments.startswith("--from"):
            continue
        *sources, _target = arguments.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", "node_modules", "static/vendor", "static/dist", "deploy/proeftuin.env"} <= set(
        ignored
    )


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed here")
def test_hadolint_accepts_the_dockerfile() -> None:  # pragma: no cover (not installed in CI)
    linted = subprocess.run(
        ["hadolint", "--failure-threshold", "warning", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert linted.returncode == 0, linted.stdout


# -- systemd ---------------------------------------------------------------------------------


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def test_the_units_parse_and_start_real_commands() -> None:
    names = {path.name for path in UNITS}
    assert {"proeftuin.service", "proeftuin-jobs.service", "proeftuin-jobs.timer"} <= names
    for path in UNITS:
        parsed = unit(path)
        if path.suffix == ".timer":
            assert (path.parent / parsed["Timer"]["Unit"]).is_file(), path.name
            continue
        service = parsed["Service"]
        assert service["User"] == "proeftuin", path.name
        assert service["EnvironmentFile"] == "/etc/proeftuin/proeftuin.env"
        argv = shlex.split(service["ExecStart"])
        if argv[0] == "/bin/sh":  # sh -c '…': the proeftuin command inside
            assert argv[1] == "-c"
            argv = shlex.split(argv[2].replace("%%", "%"))
            argv = argv[1:] if argv[0] == "exec" else argv
        assert argv[0] == INSTALLED_PROEFTUIN, path.name
        check_proeftuin_command([a for a in argv[1:] if not a.startswith('"/')])

    serve = shlex.split(unit(DEPLOY / "systemd" / "proeftuin.service")["Service"]["ExecStart"])
    assert serve[1] == "serve" and int(serve[serve.index("--workers") + 1]) >= 2
    assert unit(DEPLOY / "systemd" / "proeftuin-jobs.service")["Service"]["Type"] == "oneshot"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    # The units name the installed program; here it lives in this virtual environment.
    for path in UNITS:
        text = path.read_text().replace(INSTALLED_PROEFTUIN, str(VENV_PROEFTUIN))
        (tmp_path / path.name).write_text(text)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    problems = [
        line
        for line in (verified.stdout + verified.stderr).splitlines()
        # Outside a booted systemd (a container) the unrelated host units may be missing.
        if line.strip() and "proeftuin" in line
    ]
    assert problems == [], "\n".join(problems)


def test_the_admin_helper_is_a_valid_shell_script() -> None:
    script = DEPLOY / "proeftuin-admin"
    assert script.stat().st_mode & 0o111
    checked = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert INSTALLED_PROEFTUIN in script.read_text()


# -- The guide -------------------------------------------------------------------------------


def test_the_guide_covers_the_production_checklist() -> None:
    guide = (DEPLOY / "README.md").read_text()
    flat = " ".join(guide.split())
    for must in (
        "PROEFTUIN_SECRET_KEY",
        "PROEFTUIN_CODE_PEPPER",
        "a backup without the pepper cannot check codes",
        "secret store",
        "PROEFTUIN_SMTP_HOST",
        "TOTP",
        "pg_dump",
        "pg_restore",
        "proeftuin export-db",
        "proeftuin import-db",
        ".backup",
        "Retention",
        "## Updates",
        "proeftuin check-config",
        "/readyz",
        "docker compose up -d",
        "systemctl enable --now proeftuin.service",
    ):
        assert must in flat, must
    # Every file the guide refers to exists.
    for referenced in re.findall(r"deploy/([\w./-]*[\w*])", guide):
        if referenced.endswith(".env"):  # made by the operator
            continue
        assert list(DEPLOY.glob(referenced)), f"deploy/{referenced} does not exist"
