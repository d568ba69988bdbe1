"""Results in S3 (moto's server, started here): links that stay signed mediagate URLs and
stream from the bucket (ranges too), or presigned S3 URLs by a setting; deletes reach the
bucket. On PostgreSQL, so this is also the scale-out deployment's storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import Server, wait_done
from tests.s3 import S3Server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


def _generate(srv: Server, key: str, model: str = "seedream-3") -> dict[str, object]:
    made = requests.post(
        srv.url + "/v1/media/create",
        json={"model": model, "prompt": "a lighthouse"},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    body = wait_done(srv.url, key, str(made["id"]))
    assert body["status"] == "done", body
    return body


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_results_live_in_the_bucket_behind_signed_links(
    tmp_path: Path, s3: S3Server, db_url: str
) -> None:
    bucket = s3.bucket("media-signed")
    srv = Server(tmp_path, latency=0.1, MEDIAGATE_DATABASE_URL=db_url, **s3.env(bucket)).start()
    try:
        key = srv.key()
        body = _generate(srv, key, "seedance-1-lite-480P-5s")
        url = str(body["url"])
        assert url.startswith(srv.url + "/v1/files/")
        objects = s3.client().list_objects_v2(Bucket=bucket)["Contents"]
        assert [o["Key"] for o in objects] == [f"t/{body['id']}/0.mp4"]
        whole = requests.get(url, timeout=30)
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        stored = s3.client().get_object(Bucket=bucket, Key=objects[0]["Key"])["Body"].read()
        assert whole.content == stored and len(stored) == objects[0]["Size"]
        part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=30)
        assert part.status_code == 206 and part.content == stored[100:200]
        assert not list((tmp_path / "media").glob("t/*/*"))  # nothing on local disk
        # OpenAI's DELETE removes the file from the bucket too.
        gone = requests.delete(
            srv.url + f"/v1/videos/{body['id']}", headers={"Authorization": key}, timeout=10
        )
        assert gone.status_code == 200
        assert "Contents" not in s3.client().list_objects_v2(Bucket=bucket)
    finally:
        srv.stop()


def test_presigned_links_point_at_the_bucket(tmp_path: Path, s3: S3Server) -> None:
    bucket = s3.bucket("media-presigned")
    env = s3.env(bucket, MEDIAGATE_S3_PRESIGN="1", MEDIAGATE_URL_TTL_S="600")
    srv = Server(tmp_path, latency=0.1, **env).start()
    try:
        body = _generate(srv, srv.key())
        url = str(body["url"])
        assert url.startswith(f"{s3.url}/{bucket}/t/{body['id']}/0.webp?")
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
        got = requests.get(url, timeout=30)
        assert got.status_code == 200 and got.content[:4] == b"RIFF"
        # (moto does not check signatures, so a tampered link is not tested here.)
    finally:
        srv.stop()
