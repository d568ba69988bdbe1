"""Hardening round 3 (issue 27), the parts that need no server: pixel caps read from headers,
decoding in a pool process, masks the size of their image, sealed secrets, a private data
dir, ASCII-only numbers in the vendor dialects."""

from __future__ import annotations

import io
import multiprocessing
import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec
import pytest
from PIL import Image

from mediagate import datadir
from mediagate.api.channels import masked
from mediagate.api.kling import _duration
from mediagate.api.luma import _seconds
from mediagate.core.accounts import price_micros
from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import InputError, InvalidRequestError
from mediagate.core.images import check_pixels, image_size
from mediagate.core.tasks import Mode
from mediagate.jobs.decode import Decoder
from mediagate.jobs.inputs import InputResolver
from mediagate.jobs.netguard import policy
from mediagate.storage.blobs import BlobStore
from mediagate.storage.signing import UrlSigner
from mediagate.store.sealing import Sealer, SealError, is_sealed
from mediagate.testing import FakeClock, InMemoryStores
from tests.bombs import data_url, png, png_bomb, truncated_png, webp_bomb

CATALOGUE = default_catalogue()


def _encoded(fmt: str, size: tuple[int, int], frames: int = 1, **kw: object) -> bytes:
    out = io.BytesIO()
    images = [Image.new("RGB", size, (i * 60, 10, 10)) for i in range(frames)]
    images[0].save(out, fmt, save_all=frames > 1, append_images=images[1:], **kw)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "kw", "frames"),
    [
        ("PNG", {}, 1),
        ("JPEG", {}, 1),
        ("JPEG", {"progressive": True}, 1),
        ("WEBP", {"lossless": True}, 1),
        ("WEBP", {"quality": 70}, 1),
        ("WEBP", {}, 2),  # animated: VP8X
        ("GIF", {}, 1),
        ("GIF", {}, 3),
    ],
)
def test_image_size_reads_every_taken_format_from_its_header(
    fmt: str, kw: dict[str, object], frames: int
) -> None:
    data = _encoded(fmt, (123, 45), frames, **kw)
    assert image_size(data) == (123, 45)


def test_bombs_are_measured_without_decoding() -> None:
    assert image_size(webp_bomb()) == (12000, 12000)
    assert image_size(png_bomb()) == (13000, 13000)
    assert len(webp_bomb()) < 10_000 and len(png_bomb()) < 600_000
    assert image_size(b"\x89PNG\r\n\x1a\n" + b"\0" * 8) is None  # cut before IHDR
    assert image_size(b"\xff\xd8\xff\xe0\x00\x10JFIF") is None  # no frame header
    assert image_size(b"GIF89a\x01") is None


def test_check_pixels_names_the_field_and_the_cap() -> None:
    assert check_pixels(png(10, 10), "images[0]", 100) == (10, 10)
    with pytest.raises(InvalidRequestError) as caught:
        check_pixels(webp_bomb(), "images[2]", 40_000_000)
    assert caught.value.param == "images[2]"
    assert "12000x12000" in str(caught.value) and "40 MP" in str(caught.value)
    with pytest.raises(InvalidRequestError, match="not a readable image"):
        check_pixels(b"\x89PNG\r\n\x1a\nnonsense", "image", 100)


@pytest.fixture
def stores() -> InMemoryStores:
    return InMemoryStores(FakeClock())


async def test_a_bomb_is_refused_at_create_before_anything_is_stored(
    stores: InMemoryStores,
) -> None:
    keys, tasks = stores.key_service(), stores.task_service(CATALOGUE)
    _, key = await keys.create(Mode.TEST)
    for bomb, kind in ((webp_bomb(), "webp"), (png_bomb(), "png")):
        with pytest.raises(InvalidRequestError) as caught:
            await tasks.create(key, "seedream-3", "x", images=[data_url(bomb, kind)])
        assert caught.value.param == "images[0]" and "MP" in str(caught.value)
    assert stores.media.blobs == {} and stores.tasks.rows == {}


async def test_the_pixel_cap_is_a_setting_and_a_model_may_set_its_own(
    stores: InMemoryStores,
) -> None:
    keys = stores.key_service()
    _, key = await keys.create(Mode.TEST)
    tasks = stores.task_service(CATALOGUE, max_input_pixels=50 * 50)
    ok = await tasks.create(key, "seedream-3", "x", images=[data_url(png(50, 50))])
    assert ok.params.images[0].startswith("blob:")
    with pytest.raises(InvalidRequestError, match="51x50"):
        await tasks.create(key, "seedream-3", "x", images=[data_url(png(51, 50))])
    spec = msgspec.structs.replace(CATALOGUE.get("seedream-3"), max_input_pixels=10)
    assert tasks.max_pixels(spec) == 10
    assert tasks.max_pixels(CATALOGUE.get("seedream-3")) == 2500


async def test_a_mask_must_be_the_size_of_its_image(stores: InMemoryStores) -> None:
    keys, tasks = stores.key_service(), stores.task_service(CATALOGUE)
    _, key = await keys.create(Mode.TEST)
    image, mask = data_url(png(64, 48)), data_url(png(32, 24, (255, 255, 255)))
    with pytest.raises(InvalidRequestError) as caught:
        await tasks.create(
            key, "ideogram-v3", "x", images=[image, mask], roles=["edit", "mask"], action="edit"
        )
    assert caught.value.param == "mask" and "64x48" in str(caught.value)
    same = data_url(png(64, 48, (255, 255, 255)))
    made = await tasks.create(
        key, "ideogram-v3", "x", images=[image, same], roles=["edit", "mask"], action="edit"
    )
    assert len(made.params.images) == 2


@pytest.fixture(scope="module")
def pool() -> ProcessPoolExecutor:
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    yield executor  # type: ignore[misc]
    executor.shutdown()


async def test_the_decoder_decodes_in_the_pool_and_refuses_bombs_unseen(
    pool: ProcessPoolExecutor,
) -> None:
    decoder = Decoder(pool, 1)
    assert await decoder.verify(png(40, 30), 10_000) == "image/png"
    assert await decoder.verify(truncated_png(), 10_000) is None  # fails in the decode
    assert await decoder.has_white(png(8, 8, (255, 255, 255)), 100) is True
    assert await decoder.has_white(png(8, 8, (0, 0, 0)), 100) is False
    # Refused on its header: never sent to the pool (a shut pool would raise).
    shut = ProcessPoolExecutor(1)
    shut.shutdown()
    assert await Decoder(shut).verify(webp_bomb(), 40_000_000) is None
    assert await Decoder(shut).verify(png(20, 20), 100) is None


async def test_a_downloaded_or_kept_input_over_the_cap_fails_its_task(tmp_path: Path) -> None:
    blobs = BlobStore.local(tmp_path)
    resolver = InputResolver(blobs, UrlSigner(b"s" * 32), 20 << 20, policy(True), None, 10_000)
    await blobs.put("in/bomb", webp_bomb())
    await blobs.put("in/cut", truncated_png())
    await blobs.put("in/ok", png(20, 20))
    with pytest.raises(InputError, match="12000x12000"):
        await resolver.load("t1", ("blob:in/bomb",))
    with pytest.raises(InputError, match="not a readable"):
        await resolver.load("t1", ("blob:in/cut",))
    (ok,) = await resolver.load("t1", ("blob:in/ok",))
    assert ok.content_type == "image/png"
    with pytest.raises(InputError, match=r"over this model's cap of 0\.0001 MP"):
        await resolver.load("t1", ("blob:in/ok",), max_pixels=100)


def test_sealed_secrets_open_only_where_they_were_sealed() -> None:
    sealer = Sealer(bytes(range(32)))
    box = sealer.seal("sk-live-secret", "channels.api_key:ch_1")
    assert is_sealed(box) and "sk-live-secret" not in box
    assert sealer.open(box, "channels.api_key:ch_1") == "sk-live-secret"
    assert sealer.seal("x", "w") != sealer.seal("x", "w")  # a fresh nonce each time
    with pytest.raises(SealError):
        sealer.open(box, "channels.api_key:ch_2")  # moved to another row
    with pytest.raises(SealError):
        Sealer(bytes(32)).open(box, "channels.api_key:ch_1")  # another instance's key
    tampered = box[:-4] + ("AAAA" if not box.endswith("AAAA") else "BBBB")
    with pytest.raises(SealError):
        sealer.open(tampered, "channels.api_key:ch_1")
    assert sealer.open("plain-from-before", "anywhere") == "plain-from-before"


def test_the_admin_api_shows_no_credential() -> None:
    assert masked("sk-proj-abcdefghijklmnopqrstuvwxyz") == "••••wxyz"
    assert masked("short-key") == "••••"


def test_a_new_data_dir_is_private_and_a_loose_one_is_reported(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "data"
    assert datadir.prepare(fresh, fresh / "mediagate.db") == []
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert stat.S_IMODE((fresh / "mediagate.db").stat().st_mode) == 0o600
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    (loose / "mediagate.db").write_bytes(b"")
    (loose / "mediagate.db").chmod(0o644)
    found = datadir.prepare(loose, loose / "mediagate.db")
    assert len(found) == 2 and "chmod 0700" in found[0] and "chmod 0600" in found[1]


@pytest.mark.parametrize("text", ["²", "¹⁰", "٥", "５", "𝟓", "5" * 40, "-5", " "])
def test_vendor_durations_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _duration(text)
    assert caught.value.param == "duration"
    with pytest.raises(InvalidRequestError):
        _seconds(text + "s")
    assert _duration("5") == 5 and _seconds("9s") == 9


def test_luma_is_priced_by_the_pixels_of_its_resolution() -> None:
    spec = CATALOGUE.get("luma-ray-2")
    prices = {}
    for resolution in ("540p", "720p", "1080p", "4k"):
        _, params = CATALOGUE.validate(
            "luma-ray-2", "x", options={"resolution": resolution}, duration_seconds=5
        )
        prices[resolution] = price_micros(spec, params)
    assert prices["720p"] == 5 * 70_000  # the listed price is 720p's
    assert prices["540p"] * 16 == prices["720p"] * 9  # 960x540 against 1280x720
    assert prices["1080p"] * 4 == prices["720p"] * 9 and prices["4k"] == prices["720p"] * 9
    _, default = CATALOGUE.validate("luma-ray-2", "x", duration_seconds=5)
    assert price_micros(spec, default) == prices["720p"]


async def test_a_blocked_address_and_a_refused_one_read_the_same(tmp_path: Path) -> None:
    """A tenant learns nothing of which internal names resolve or answer."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once the socket is closed
    blobs = BlobStore.local(tmp_path)
    messages = []
    for allow in (False, True):  # blocked by the guard; then let through and refused
        resolver = InputResolver(blobs, UrlSigner(b"s" * 32), 1 << 20, policy(allow))
        url = f"http://127.0.0.1:{closed}/x.png"
        with pytest.raises(InputError) as caught:
            await resolver.load(f"t{allow}", (url,))
        messages.append(caught.value.message)
    assert messages[0] == messages[1]
