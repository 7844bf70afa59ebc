"""The container image and the systemd units in deploy/, checked without a Docker daemon."""

from __future__ import annotations

import fnmatch
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cli_runner import SCRIPT

ROOT = Path(__file__).resolve().parents[2]
UNITS = (
    "sheetqueue.service",
    "sheetqueue-worker.service",
    "sheetqueue-tick.service",
    "sheetqueue-tick.timer",
)
INSTALLED = "/opt/sheetqueue/bin/sheetqueue"


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile line, continuations joined, comments dropped."""
    joined = dockerfile.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines if line and line[0] != "#")
    ]


def _copy_context(target: Path) -> None:
    """What ``COPY . /src`` sends: the repository less the .dockerignore patterns."""
    ignored = [p for p in (ROOT / ".dockerignore").read_text().split() if p]

    def skip(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if any(fnmatch.fnmatch(n, p) for p in ignored)}

    shutil.copytree(ROOT, target, ignore=skip)


def test_the_image_is_slim_unprivileged_with_a_state_volume_and_a_healthcheck() -> None:
    """Slim Python base, a non-root USER, the state folder a VOLUME, HEALTHCHECK on /readyz."""
    steps = _instructions(ROOT / "Dockerfile")
    bases = [args for word, args in steps if word == "FROM"]
    assert bases and all(base.startswith("python:3.11-slim") for base in bases)
    assert ("USER", "sheetqueue") in steps
    assert ("VOLUME", '["/var/lib/sheetqueue"]') in steps
    env = " ".join(args for word, args in steps if word == "ENV")
    assert "SHEETQUEUE_STATE_PATH=/var/lib/sheetqueue/" in env
    health = next(args for word, args in steps if word == "HEALTHCHECK")
    assert "/readyz" in health
    command = next(args for word, args in steps if word == "CMD")
    assert "--with-worker" in command
    compose = (ROOT / "compose.yaml").read_text()
    assert '"serve", "--host", "0.0.0.0", "--port", "8000", "--with-worker"' in compose
    assert "sheetqueue-state:/var/lib/sheetqueue" in compose


def test_the_dockerfile_build_steps_install_a_working_sheetqueue(tmp_path: Path) -> None:
    """The image's RUN step, run as a plain script, installs a sheetqueue that checks a store."""
    steps = _instructions(ROOT / "Dockerfile")
    runs = [shlex.split(args) for word, args in steps if word == "RUN" and "build-steps" in args]
    assert runs == [["sh", "deploy/build-steps.sh", "/src", "/opt/sheetqueue"]]
    source, venv = tmp_path / "src", tmp_path / "opt-sheetqueue"
    _copy_context(source)
    built = subprocess.run(
        ["sh", "deploy/build-steps.sh", str(source), str(venv)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    assert built.stdout.strip().startswith("sheetqueue ")
    state = tmp_path / "state"
    state.mkdir()
    (state / "orders.json").write_text("[]")
    checked = subprocess.run(
        [str(venv / "bin" / "sheetqueue"), "check"],
        cwd=state,
        env={"PATH": "/usr/bin:/bin", "SHEETQUEUE_ORDERS": "file:orders.json"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok    store (local): 0 requests" in checked.stdout


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Every unit in deploy/ verifies, its ExecStart pointed at an installed sheetqueue."""
    script = SCRIPT
    for name in UNITS:
        text = (ROOT / "deploy" / name).read_text()
        if name.endswith(".service"):
            assert f"ExecStart={INSTALLED} " in text and "User=sheetqueue" in text
        assert "[Install]" in text or name == "sheetqueue-tick.service"
        (tmp_path / name).write_text(text.replace(INSTALLED, str(script)))
    verified = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert "is not executable" not in verified.stderr


def test_the_postgres_compose_variant_migrates_first_and_runs_two_workers_on_shared_state() -> None:
    """deploy/compose.postgres.yaml: a healthy postgres with a volume, migrate, two workers."""
    compose = yaml.safe_load((ROOT / "deploy" / "compose.postgres.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "sheetqueue", "sheetqueue-2"}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert set(compose["volumes"]) == {v.partition(":")[0] for v in postgres["volumes"]}
    assert services["migrate"]["command"] == ["sheetqueue", "migrate"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    serve = ["sheetqueue", "serve", "--host", "0.0.0.0", "--port", "8000", "--with-worker"]  # noqa: S104
    for name in ("sheetqueue", "sheetqueue-2"):
        service = services[name]
        assert service["command"] == serve
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    for name in ("migrate", "sheetqueue", "sheetqueue-2"):
        url = services[name]["environment"]["SHEETQUEUE_STATE_URL"]
        assert url.startswith("postgresql://sheetqueue:")
        assert url.endswith("@postgres:5432/sheetqueue")
        assert services[name]["env_file"] == "../sheetqueue.env"
    ports = [p for name in ("sheetqueue", "sheetqueue-2") for p in services[name]["ports"]]
    assert len({p.partition(":")[0] for p in ports}) == 2


def _has_compose() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _has_compose(), reason="docker compose is not installed here")
def test_docker_compose_accepts_the_postgres_variant() -> None:
    """`docker compose config` reads deploy/compose.postgres.yaml without an error."""
    checked = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "deploy" / "compose.postgres.yaml"), "config", "-q"],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "POSTGRES_PASSWORD": "example"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
