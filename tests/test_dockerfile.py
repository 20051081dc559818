"""The Dockerfile, checked without a Docker engine: everything it copies, installs and runs
must exist, and its build-time collectstatic must work with exactly the env it sets."""

import fnmatch
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(settings.BASE_DIR)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    lines = [
        line
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def stage_named(name: str) -> list[tuple[str, str]]:
    steps = instructions()
    start = next(
        i for i, (k, a) in enumerate(steps) if k == "FROM" and a.lower().endswith(f" as {name}")
    )
    end = next((i for i in range(start + 1, len(steps)) if steps[i][0] == "FROM"), len(steps))
    return steps[start:end]


def copies(stage: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    result = []
    for keyword, arguments in stage:
        if keyword == "COPY" and not arguments.startswith("--from"):
            *sources, destination = shlex.split(arguments)
            result.append((sources, destination))
    return result


def exec_form(arguments: str) -> list[str]:
    if arguments.startswith("CMD "):
        arguments = arguments[4:]
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def ignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(Path(prefix).name, pattern.removeprefix("**/"))
        for pattern in patterns
        if not pattern.startswith("!")
        for prefix in prefixes
    )


def test_the_image_is_built_in_two_stages_on_a_slim_base() -> None:
    froms = [arguments for keyword, arguments in instructions() if keyword == "FROM"]
    assert len(froms) >= 2
    assert "slim" in froms[-1]
    assert any(keyword == "COPY" and "--from=builder" in a for keyword, a in final_stage())


def test_every_copied_file_exists_and_is_in_the_build_context() -> None:
    for stage in (stage_named("builder"), final_stage()):
        for sources, _ in copies(stage):
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"
                assert not ignored(source), f"COPY {source}: excluded by .dockerignore"


def test_the_builder_installs_the_runtime_lock_file() -> None:
    builder = stage_named("builder")
    installs = [a for k, a in builder if k == "RUN" and "pip install" in a]
    assert installs
    target = re.search(r"-r\s+(\S+)", installs[0])
    assert target
    copied = {destination: sources for sources, destination in copies(builder)}
    assert copied[target.group(1)] == ["requirements.lock"]


def test_every_install_checks_the_locked_hashes() -> None:
    installs = [a for k, a in stage_named("builder") if k == "RUN" and "pip install" in a]
    assert all("--require-hashes" in install for install in installs)
    makefile = (ROOT / "Makefile").read_text()
    lock_installs = [
        line for line in makefile.splitlines() if "pip install" in line and ".lock" in line
    ]
    assert lock_installs
    assert all("--require-hashes" in line for line in lock_installs)
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        pins = re.findall(r"^(\S+)==\S+((?: \\\n\s+--hash=sha256:[0-9a-f]{64})*)", text, re.M)
        assert pins, f"{lock} pins nothing"
        unhashed = [name for name, hashes in pins if not hashes]
        assert not unhashed, f"{lock}: no hash for {unhashed}"


def test_the_lock_file_pins_every_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()
        assert name in locked, f"{name} is not pinned in requirements.lock"


def test_the_default_command_is_gunicorn_serving_our_wsgi_app() -> None:
    command = exec_form(next(a for k, a in final_stage() if k == "CMD"))
    assert command[:2] == ["gunicorn", "orderdesk.wsgi"]
    assert "0.0.0.0:8000" in command
    locked = (ROOT / "requirements.lock").read_text()
    assert re.search(r"^gunicorn==", locked, re.M), "gunicorn is not in requirements.lock"
    assert importlib.util.find_spec("orderdesk.wsgi") is not None
    assert ("EXPOSE", "8000") in final_stage()


def test_the_health_check_runs_an_existing_module_against_the_served_port() -> None:
    check = next(a for k, a in final_stage() if k == "HEALTHCHECK")
    command = exec_form(check[check.index("CMD ") :])
    assert command[:3] == ["python", "-m", "orderdesk.core.healthcheck"]
    assert command[3] == "8000"
    assert importlib.util.find_spec(command[2]) is not None


def test_the_manage_py_commands_the_image_and_readme_use_exist() -> None:
    runs = " ".join(a for k, a in final_stage() if k == "RUN")
    used = set(re.findall(r"manage\.py (\w+)", runs))
    used |= set(re.findall(r"manage\.py (\w+)", (ROOT / "README.md").read_text()))
    assert {"collectstatic", "migrate", "run_worker"} <= used
    missing = used - set(get_commands())
    assert not missing, f"no such manage.py command: {missing}"


def test_the_container_runs_as_an_unprivileged_user() -> None:
    stage = final_stage()
    users = [a for k, a in stage if k == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    assert any(k == "RUN" and "useradd" in a and users[-1] in a for k, a in stage)
    user_at = max(i for i, (k, _) in enumerate(stage) if k == "USER")
    cmd_at = max(i for i, (k, _) in enumerate(stage) if k == "CMD")
    assert user_at < cmd_at


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def test_the_placeholder_build_values_do_not_stay_in_the_image() -> None:
    assert not {"SECRET_KEY", "IMPILO_API_KEY", "ALLOWED_HOSTS"} & set(image_env())
    assert image_env()["DEBUG"] == "false"


@pytest.mark.timeout(420)  # collectstatic may take its 300 s on a busy machine
def test_collectstatic_works_with_the_env_the_dockerfile_sets(tmp_path) -> None:
    run = next(a for k, a in final_stage() if k == "RUN" and "collectstatic" in a)
    words = shlex.split(run)
    build_only = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
    command = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
    assert command[:3] == ["python", "manage.py", "collectstatic"]
    env = {
        **{name: value for name, value in image_env().items() if name != "PATH"},
        **build_only,
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "STATIC_ROOT": str(tmp_path),  # the only difference: not /app/staticfiles
    }
    result = subprocess.run(
        [sys.executable, *command[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert "css/orderdesk.css" in manifest["paths"]
    assert (tmp_path / "vendor/bootstrap/bootstrap.min.css.gz").exists()


@pytest.mark.parametrize("path", ["tests", ".git", ".venv", "db.sqlite3", ".env"])
def test_the_build_context_leaves_out_local_and_secret_files(path: str) -> None:
    assert ignored(path)
