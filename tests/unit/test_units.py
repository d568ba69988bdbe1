"""Unit tests of the pure pieces: catalogue, ids, signing, queue, SSRF guard, media."""

from __future__ import annotations

import time

import pytest

from mediagate.core.catalogue import Catalogue, default_catalogue
from mediagate.core.errors import InputError, InvalidRequestError
from mediagate.core.ids import is_task_id, new_task_id, seed_for
from mediagate.core.tasks import TRANSITIONS, Status, can_move
from mediagate.jobs.inputs import InputResolver
from mediagate.jobs.netguard import (
    BlockedAddressError,
    GuardedResolver,
    allow_all,
    is_public_address,
)
from mediagate.providers.sandbox import media
from mediagate.providers.sandbox.provider import nearest_ratio
from mediagate.storage.blobs import BlobStore
from mediagate.storage.signing import UrlSigner
from tests.media import probe


def test_catalogue_holds_the_five_seed_models_with_their_rules() -> None:
    cat = default_catalogue()
    assert {m for m, spec in cat.models.items() if not spec.family} == {
        "google-imagen-3",
        "seedream-3",
        "glabs-veo-3-1-fast",
        "seedance-1-lite-480P-5s",
        "veo-3.0-generate-preview",
    }
    assert {"", "midjourney", "suno", "runway", "luma"} <= {s.family for s in cat.models.values()}
    assert cat.get("google-imagen-3").aspect_ratios == [
        "1:1",
        "16:9",
        "9:16",
        "4:3",
        "3:4",
        "21:9",
        "9:21",
    ]
    assert cat.get("google-imagen-3").max_images == 0
    assert cat.get("seedream-3").image_input.value == "edit"
    assert cat.get("seedance-1-lite-480P-5s").sizes["16:9"] == (864, 480)
    assert cat.get("seedance-1-lite-480P-5s").durations == [5]
    for spec in cat.models.values():
        for w, h in spec.sizes.values():
            assert w % 2 == 0 and h % 2 == 0


def test_catalogue_rejects_a_broken_entry() -> None:
    bad = (
        b'[models.x]\ntitle="x"\nkind="video"\nformat="mp4"\nvendor="v"\n'
        b'aspect_ratios=["1:1"]\ndefault_aspect_ratio="1:1"\n[models.x.sizes]\n"1:1"=[2,2]\n'
    )
    with pytest.raises(ValueError, match="durations"):
        Catalogue.from_toml(bad)
    with pytest.raises(ValueError, match="sizes"):
        Catalogue.from_toml(bad.replace(b'"1:1"=[2,2]', b'"2:1"=[2,2]'))


def test_invalid_request_names_the_field_in_each_dialect() -> None:
    with pytest.raises(InvalidRequestError) as err:
        default_catalogue().validate("seedream-3", "x", aspect_ratio="5:4")
    assert err.value.param == "aspect_ratio"
    assert err.value.describe("ar").startswith("ar: '5:4' is not supported")
    assert "allowed: 1:1, 16:9, 9:16, 4:3, 3:4" in err.value.describe("ar")


def test_ids_and_seeds() -> None:
    ids = {new_task_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(is_task_id(i) for i in ids)
    assert not is_task_id("ABCDEF0123456789abcdef01")
    assert new_task_id(0x6880F043)[:8] == "6880f043"
    assert seed_for("a", "b") == seed_for("a", "b") != seed_for("a", "c")


def test_state_machine_has_no_exit_from_terminal_states() -> None:
    for status in (Status.DONE, Status.FAILED, Status.CANCELLED):
        assert status.terminal and TRANSITIONS[status] <= {status}
    # A cancelled or timed-out task keeps a step (telling the upstream to stop) in its status.
    assert TRANSITIONS[Status.CANCELLED] == {Status.CANCELLED}
    assert TRANSITIONS[Status.FAILED] == {Status.FAILED}
    assert not TRANSITIONS[Status.DONE]
    assert can_move(Status.QUEUED, Status.PROCESSING)
    assert not can_move(Status.DONE, Status.PROCESSING)


def test_signed_urls() -> None:
    signer = UrlSigner(b"s" * 32)
    path = signer.path("t/abc/0.mp4")
    sig = path.split("sig=")[1]
    assert path.startswith("/v1/files/t/abc/0.mp4?sig=")
    assert signer.verify("t/abc/0.mp4", sig, None)
    assert not signer.verify("t/abc/1.mp4", sig, None)
    assert not UrlSigner(b"x" * 32).verify("t/abc/0.mp4", sig, None)
    assert not signer.verify("t/abc/0.mp4", "I\u00a8M\u009bc\U000be1a5", None)  # found by fuzzing
    expiring = UrlSigner(b"s" * 32, ttl_s=60)
    p = expiring.path("k", now=1000.0)
    s, exp = p.split("sig=")[1].split("&exp=")
    assert (
        exp == "1060"
        and expiring.verify("k", s, exp, now=1059)
        and not expiring.verify("k", s, exp, now=1061)
    )
    assert not expiring.verify("k", s, "1061", now=1000)  # a moved expiry breaks the signature
    assert expiring.path("k", now=2000.0) != p  # an expiring link is signed afresh each time
    # Without a TTL a key's path is remembered (polls of a done task sign its links again
    # and again), and is the very path a fresh signer makes.
    assert signer.path("t/abc/0.mp4") is signer.path("t/abc/0.mp4")
    assert UrlSigner(b"s" * 32).path("t/abc/0.mp4") == path
    for i in range(UrlSigner.PATHS_KEPT + 1):  # bounded
        signer.path(f"t/{i}")
    assert len(signer._paths) <= UrlSigner.PATHS_KEPT


@pytest.mark.parametrize(
    ("addr", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("fd00::1", False),
        ("224.0.0.1", False),
        # IPv6 forms that carry an IPv4 address count as that address
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of the metadata address
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::a00:1", False),  # local-use NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("::7f00:1", False),  # IPv4-compatible 127.0.0.1
        ("::a00:1", False),  # IPv4-compatible 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("fec0::1", False),  # site-local
    ],
)
def test_ssrf_guard_address_classes(addr: str, public: bool) -> None:
    assert is_public_address(addr) is public


async def test_guarded_resolver_refuses_names_that_resolve_to_loopback() -> None:
    with pytest.raises(BlockedAddressError):
        await GuardedResolver(is_public_address).resolve("localhost", 80)
    assert await GuardedResolver(allow_all).resolve("localhost", 80)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://[::1]/x.png",
        "http://169.254.169.254/latest",
        "http://localhost:9/x.png",
        "http://10.0.0.1/x.png",
        "http://2130706433/x.png",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/x.png",  # ... as hex
        "http://0177.0.0.1/x.png",  # ... with an octal first part
        "http://127.1/x.png",  # ... shortened
        "http://[::ffff:127.0.0.1]/x.png",  # IPv4-mapped IPv6
        "http://[::ffff:a9fe:a9fe]/latest",  # 169.254.169.254, mapped and in hex
        "http://user:pw@127.0.0.1/x.png",  # credentials in front of the host
        "http://0.0.0.0:9/x.png",
    ],
)
async def test_input_fetch_refuses_private_targets(tmp_path, url: str) -> None:  # type: ignore[no-untyped-def]
    resolver = InputResolver(
        BlobStore.local(tmp_path), UrlSigner(b"k" * 32), 1 << 20, is_public_address
    )
    with pytest.raises(InputError, match="not a public address, or it did not answer"):
        await resolver.load("t1", (url,))


def test_image_render_has_exact_size_and_format() -> None:
    for fmt in ("webp", "png", "jpeg"):
        info = probe(media.render_image(640, 360, 7, fmt))
        assert (info.format, info.width, info.height) == (fmt, 640, 360)


def test_video_render_is_h264_with_exact_frames_and_fast() -> None:
    t0 = time.perf_counter()
    data = media.render_video(864, 480, 5, 24, seed=1)
    elapsed = time.perf_counter() - t0
    info = probe(data)
    assert (info.codec, info.width, info.height, info.frames, info.fps) == (
        "h264",
        864,
        480,
        120,
        24,
    )
    assert info.duration == pytest.approx(5.0)
    assert elapsed < 3.0  # about 0.4 s here; the bound only catches a pathological slowdown


def test_nearest_ratio() -> None:
    assert nearest_ratio(900, 1200, ["1:1", "16:9", "9:16", "4:3", "3:4"]) == "3:4"
    assert nearest_ratio(1920, 1080, ["1:1", "16:9", "9:16"]) == "16:9"


async def test_blob_put_reports_the_size_it_streamed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blobs = BlobStore.local(tmp_path)

    async def chunks():  # type: ignore[no-untyped-def]
        for part in (b"a" * 300_000, b"b" * 5):
            yield part

    info = await blobs.put("t/x/0.bin", chunks())
    assert info.size == 300_005 == await blobs.size("t/x/0.bin")
    assert (await blobs.put("t/x/1.bin", b"xyz")).size == 3


def test_the_head_revision_a_start_checks_is_the_newest_migration() -> None:
    from mediagate.store.migrate import HEAD, head_revision

    assert head_revision() == HEAD


def test_credentials_are_a_named_set_of_secrets_per_provider() -> None:
    from mediagate.core.errors import ProviderAuthError
    from mediagate.providers.build import credentials_for
    from mediagate.settings import Settings

    settings = Settings(
        ark_api_key="single",
        credentials={
            "ark": {"base_url": "http://ark.internal/api/v3"},
            "kling": {
                "api_key": "-",
                "base_url": "http://k",
                "access_key": "ak",
                "secret_key": "sk",
            },
        },
    )
    ark = credentials_for(settings, "ark")
    assert ark is not None and (ark.api_key, ark.base_url) == (
        "single",
        "http://ark.internal/api/v3",
    )
    kling = credentials_for(settings, "kling")
    assert (
        kling is not None
        and kling.secret("access_key") == "ak"
        and kling.secret("secret_key") == "sk"
    )
    with pytest.raises(ProviderAuthError, match="token"):
        kling.secret("token")
    assert credentials_for(settings, "openai") is None  # no key: not built
    assert credentials_for(Settings(newapi_api_key="k"), "newapi") is None  # no base URL
