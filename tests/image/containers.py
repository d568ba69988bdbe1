"""Podman for the image tier: the base image made here with debootstrap (no registry is
reached), the project's Containerfile built on it, containers run and waited for.

Podman here runs as root without systemd and on hybrid cgroups: ``runc`` with the cgroupfs
manager, rlimits lowered to what the sandbox allows, and the host's network (each container
serves on a free port)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).parents[2]
BASE = "localhost/mediagate-base:bookworm"
IMAGE = "localhost/mediagate:image-test"
CACHE = Path(os.environ.get("MEDIAGATE_IMAGE_CACHE", "/var/tmp/mediagate-image"))
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
MIRROR = "http://deb.debian.org/debian"


def run(*args: str, timeout: float = 900, stdin: bytes | None = None) -> str:
    done = subprocess.run(args, capture_output=True, timeout=timeout, input=stdin, check=False)
    assert done.returncode == 0, (args, done.stderr.decode()[-3000:])
    return done.stdout.decode()


def podman(*args: str, timeout: float = 900) -> str:
    return run(*PODMAN, *args, timeout=timeout)


def make_base() -> None:
    """A minimal Debian bookworm with python3, as an image (once; kept between runs)."""
    if subprocess.run([*PODMAN, "image", "exists", BASE], check=False).returncode == 0:
        return
    root = CACHE / "root"
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    run("debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
        "bookworm", str(root), MIRROR, timeout=1200)  # fmt: skip
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc",
                 "usr/share/man", "usr/share/locale"):  # fmt: skip
        for child in (root / junk).glob("*"):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(root, arcname=".")
    cert = "/etc/ssl/certs/ca-certificates.crt"
    run(*PODMAN, "import", "--change", f"ENV SSL_CERT_FILE={cert}", "--change",
        f"ENV PIP_CERT={cert}", "--change", "ENV UV_NATIVE_TLS=1", "-", BASE,
        stdin=buf.getvalue())  # fmt: skip


def build(tag: str, *args: str) -> str:
    """The unchanged Containerfile built on the Debian base made here (cached layers reused)."""
    if shutil.which("podman") is None or shutil.which("debootstrap") is None:
        pytest.fail("podman and debootstrap are missing: run scripts/ensure-podman.sh")
    make_base()
    podman("build", "--format", "docker", "--isolation", "chroot", "--from", BASE, "-t", tag,
           *args, "-f", str(ROOT / "Containerfile"), str(ROOT), timeout=1200)  # fmt: skip
    return tag


def start(name: str, image: str, env: dict[str, str], *command: str) -> None:
    pairs = [f"{k}={v}" for k, v in env.items()]
    flags = [part for pair in pairs for part in ("-e", pair)]
    podman("run", "-d", "--name", name, "--network", "host", *LIMITS, *flags, image, *command)


def remove(*names: str) -> None:
    for name in names:
        subprocess.run([*PODMAN, "rm", "-f", name], capture_output=True, check=False)


def wait_ready(url: str, name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(url + "/readyz", timeout=2).json().get("ready"):
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, podman("logs", name)[-3000:]
        time.sleep(0.5)
