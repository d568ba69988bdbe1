"""Probing stored files: the MP4 box reader gives what FFmpeg gives, and steps aside (None,
so FFmpeg is asked) for bytes it cannot read plainly."""

from __future__ import annotations

import asyncio

import pytest

from mediagate.jobs.probe import _container, mp4_video, probe
from mediagate.providers.sandbox.media import render_video
from tests.fakes.base import sample_mp4


@pytest.mark.parametrize(
    ("width", "height", "seconds", "fps"),
    [(848, 480, 5, 24), (1280, 720, 2, 30), (480, 864, 1, 25), (1920, 1080, 1, 60)],
)
def test_the_box_reader_agrees_with_ffmpeg(width: int, height: int, seconds: int, fps: int) -> None:
    video = render_video(width, height, seconds, fps, seed=7)
    fast = mp4_video(video)
    assert fast is not None
    assert fast == _container(video)
    assert (fast.width, fast.height, fast.duration, fast.fps, fast.codec) == (
        width,
        height,
        float(seconds),
        fps,
        "h264",
    )


def test_bytes_it_cannot_read_plainly_go_to_ffmpeg() -> None:
    video = sample_mp4()
    moov = video.find(b"moov") - 4
    assert mp4_video(video[:moov]) is None  # the moov box is not in the bytes
    assert mp4_video(video[: moov + 40]) is None  # it is cut short
    assert mp4_video(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12) is None  # no moov at all
    broken = bytearray(video)
    at = broken.find(b"avc1", moov)  # the sample entry (not the brand in ftyp)
    broken[at : at + 4] = b"zzzz"  # a codec it has no name for
    assert mp4_video(bytes(broken)) is None


def test_probe_reads_an_mp4_without_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    import mediagate.jobs.probe as module

    def no_ffmpeg(data: bytes) -> None:
        raise AssertionError("FFmpeg was asked")

    monkeypatch.setattr(module, "_container", no_ffmpeg)
    video = sample_mp4()
    found = asyncio.run(probe(video, len(video)))
    assert found is not None and found.codec == "h264" and found.fps == 24
