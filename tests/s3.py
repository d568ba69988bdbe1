"""moto's S3-compatible server on a free loopback port, started and stopped by the tests."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import requests

from tests.helpers import free_port

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/moto-api/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not start")

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", **CREDS)

    def bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str, **extra: str) -> dict[str, str]:
        """mediagate settings that put results in ``bucket`` on this server."""
        return {
            "MEDIAGATE_S3_BUCKET": bucket,
            "MEDIAGATE_S3_ENDPOINT": self.url,
            "MEDIAGATE_S3_ACCESS_KEY_ID": CREDS["aws_access_key_id"],
            "MEDIAGATE_S3_SECRET_ACCESS_KEY": CREDS["aws_secret_access_key"],
            **extra,
        }

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
