"""deploy/compose.yaml, checked and run as its services run (``make test-image``).

The file is read with YAML: every variable it gives mediagate is a setting mediagate has, the
stores have health checks that mediagate waits for, and every volume is a named one. Then its
mediagate services run from the image built here, each with its own command and environment
from the file (variables resolved as compose resolves them): the API (``serve --no-engine``)
and as many workers as the file's ``replicas``. PostgreSQL and the S3 store are the tests' own
(their images need a registry, which these machines cannot reach), in place of the file's
``postgres`` and ``minio`` hosts. The first admin key is made the way deploy.md says, and a
sandbox task runs to its file in the bucket: the API runs no task steps, so the workers did."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from mediagate.settings import Settings
from tests.helpers import free_port
from tests.image.containers import IMAGE, ROOT, build, podman, remove, start, wait_ready
from tests.media import probe
from tests.pg import Postgres
from tests.s3 import S3Server

pytestmark = pytest.mark.timeout(1500)
COMPOSE = ROOT / "deploy" / "compose.yaml"
GIVEN = {"MEDIAGATE_SECRET_KEY": "ab" * 32}  # what an operator exports first (deploy.md)


def resolve(value: str, given: dict[str, str]) -> str:
    """A compose value with its ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` made."""

    def one(match: re.Match[str]) -> str:
        name, how, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in given:
            return given[name]
        assert how != ":?", f"compose needs {name}: {rest}"
        return rest

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", one, value).replace("$$", "$")


def spec() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return found


def test_the_compose_file_gives_mediagate_only_settings_it_has() -> None:
    services = spec()["services"]
    known = {f"MEDIAGATE_{name.upper()}" for name in Settings.model_fields}
    for role in ("api", "worker"):
        env = services[role]["environment"]
        assert set(env) <= known, set(env) - known  # a typo would be ignored, silently
        assert services[role]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[role]["depends_on"]["minio-setup"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["worker"]["deploy"]["replicas"] == 2
    assert resolve(services["api"]["build"]["args"]["TOOLS"], {}) == ""  # the default image
    assert services["api"]["command"][:3] == ["mediagate", "serve", "--no-engine"]
    for store in ("postgres", "minio"):
        assert services[store]["healthcheck"]["test"], store
    declared = set(spec()["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in declared, (name, volume)  # named, not host paths
    with pytest.raises(AssertionError, match="MEDIAGATE_SECRET_KEY"):
        resolve(services["api"]["environment"]["MEDIAGATE_SECRET_KEY"], {})


@pytest.fixture(scope="module")
def stores(postgres: Postgres) -> Iterator[tuple[str, S3Server]]:
    s3 = S3Server().start()
    try:
        yield postgres.create_db(), s3
    finally:
        s3.stop()


def environment(role: str, db_url: str, s3: S3Server, **extra: str) -> dict[str, str]:
    """A service's environment as compose would give it, with the tests' stores for the
    file's ``postgres`` and ``minio`` hosts."""
    env = {k: resolve(str(v), GIVEN) for k, v in spec()["services"][role]["environment"].items()}
    assert "@postgres:5432/" in env["MEDIAGATE_DATABASE_URL"]
    assert env["MEDIAGATE_S3_ENDPOINT"] == "http://minio:9000"
    env["MEDIAGATE_DATABASE_URL"] = db_url
    env["MEDIAGATE_S3_ENDPOINT"] = s3.url
    return {**env, **extra}


def test_the_stack_runs_a_task_on_its_workers(stores: tuple[str, S3Server]) -> None:
    db_url, s3 = stores
    image = build(f"{IMAGE}-slim")  # the same build as test_image's: its layers are cached
    services = spec()["services"]
    s3.bucket("mediagate")  # what the file's minio-setup does
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    api, workers = (
        f"compose-api-{port}",
        [f"compose-worker-{port}-{n}" for n in range(services["worker"]["deploy"]["replicas"])],
    )
    public = {"MEDIAGATE_PUBLIC_URL": url, "MEDIAGATE_SANDBOX_LATENCY_S": "0.2"}
    try:
        start(api, image, environment("api", db_url, s3, MEDIAGATE_PORT=str(port), **public),
              *services["api"]["command"])  # fmt: skip
        for name in workers:
            start(name, image, environment("worker", db_url, s3, **public),
                  *services["worker"]["command"])  # fmt: skip
        wait_ready(url, api)
        admin = podman("exec", api, "mediagate", "keys", "create", "--admin").split()[-1]
        assert admin.startswith("mg_admin_")
        assert requests.get(url + "/v1/admin/keys", headers={"Authorization": admin},
                            timeout=10).status_code == 200  # fmt: skip
        key = podman("exec", api, "mediagate", "keys", "create", "--test").split()[-1]
        auth = {"Authorization": key}
        body = {"model": "seedream-3", "prompt": "a harbour"}
        task = requests.post(url + "/v1/media/create", headers=auth, json=body, timeout=10).json()
        deadline = time.monotonic() + 120
        query = {"task_id": task["id"]}
        while (
            got := requests.get(
                url + "/v1/media/result", headers=auth, params=query, timeout=10
            ).json()
        )["status"] != "done":
            assert got["status"] != "failed" and time.monotonic() < deadline, (
                got, podman("logs", workers[0])[-2000:])  # fmt: skip
            time.sleep(0.3)
        assert probe(requests.get(got["url"], timeout=30).content).format == "webp"
        kept = s3.client().list_objects_v2(Bucket="mediagate").get("Contents", [])
        assert kept, "the file is not in the bucket"
    finally:
        remove(api, *workers)
