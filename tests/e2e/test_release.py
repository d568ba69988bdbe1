"""Releases: one version (pyproject's, read with importlib.metadata) that `mediagate
--version`, /healthz and the OpenAPI document all give, a CHANGELOG entry for it, and a
wheel that carries everything the server reads from its package (templates, console assets,
migrations, the catalogue, routes) and installs with pip."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import requests

from mediagate import __version__
from tests.helpers import Server

ROOT = Path(__file__).parents[2]
PACKAGED = (
    "mediagate/web/templates/base.html", "mediagate/web/static/console.css",
    "mediagate/web/static/htmx.min.js", "mediagate/store/sqlite_head.sql",
    "mediagate/store/migrations/env.py", "mediagate/store/migrations/versions/0012_assets.py",
    "mediagate/core/catalogue.toml", "mediagate/core/text_models.toml",
    "mediagate/models/viggle.toml", "mediagate/providers/routes.toml",
    "mediagate/api/viggle_templates.toml",
)  # fmt: skip


def test_one_version_everywhere(server: Server) -> None:
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "mediagate"), "--version"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert shown == f"mediagate {__version__}" and __version__[0].isdigit()
    assert requests.get(server.url + "/healthz", timeout=10).json()["version"] == __version__
    spec = requests.get(server.url + "/openapi.json", timeout=10).json()
    assert spec["info"]["version"] == __version__
    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_the_wheel_carries_the_package_and_installs(tmp_path: Path) -> None:
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "build", "--wheel", "-o", str(tmp_path), str(ROOT)],
                   capture_output=True, check=True, timeout=300)  # fmt: skip
    (wheel,) = tmp_path.glob("mediagate-*.whl")
    assert wheel.name.startswith(f"mediagate-{__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [p for p in PACKAGED if p not in names]
    assert not missing, missing
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                   capture_output=True, check=True, timeout=300)  # fmt: skip
    found = subprocess.run(
        [str(python), "-c", "import mediagate; print(mediagate.__version__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    assert found == __version__
