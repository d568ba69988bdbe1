"""The open task model on the in-memory fakes: typed model parameters, actions with their
rules and prices, waiting tasks (modals) charged when resumed, text outputs."""

from __future__ import annotations

import msgspec
import pytest

from mediagate.core.accounts import Entry
from mediagate.core.actions import act
from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.keys import KeyRecord
from mediagate.core.params import ParamSpec, ParamType, check_options
from mediagate.core.tasks import Mode, Output, Status, Task, files, texts
from mediagate.testing import FakeClock, InMemoryStores

CATALOGUE = default_catalogue()
PIXEL = (  # a 1x1 white PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEANl9ngAAAAABJRU5ErkJggg=="
)
GRID = Output("t/x/0.png", "image/png", 10, 1024, 1024, role="grid")


@pytest.fixture
def stores() -> InMemoryStores:
    return InMemoryStores(FakeClock())


def test_options_are_checked_converted_and_defaulted() -> None:
    params = {
        "s": ParamSpec(ParamType.INT, min=0, max=1000),
        "q": ParamSpec(ParamType.FLOAT, min=0.25, max=4),
        "tile": ParamSpec(ParamType.BOOL, default=False),
        "style": ParamSpec(ParamType.ENUM, values=["raw"]),
        "no": ParamSpec(ParamType.STR, max_length=5),
    }
    got = check_options("m", params, {"s": "250", "q": ".5", "style": "raw"})
    assert got == {"s": 250, "q": 0.5, "tile": False, "style": "raw"}
    for bad, name in (
        ({"s": 5000}, "s"), ({"s": "1e400"}, "s"), ({"s": "２"}, "s"), ({"s": True}, "s"),
        ({"q": float("nan")}, "q"), ({"style": "odd"}, "style"), ({"no": "toolong"}, "no"),
        ({"tile": "maybe"}, "tile"), ({"zzz": 1}, "zzz"), ({"s": 2.5}, "s"),
    ):  # fmt: skip
        with pytest.raises(InvalidRequestError) as err:
            check_options("m", params, bad)
        assert err.value.param == name, bad


async def _done(stores: InMemoryStores, task: Task, outputs: tuple[Output, ...]) -> Task:
    row = stores.tasks.rows[task.id]
    row.task = msgspec.structs.replace(task, status=Status.DONE, step=None, outputs=outputs)
    return row.task


async def _live(stores: InMemoryStores) -> KeyRecord:
    _, key = await stores.key_service().create(Mode.LIVE)
    await stores.accounts.credit(key.account_id, 10_000_000, Entry.TOPUP, "", 0.0)
    return key


async def test_actions_follow_their_rules_and_prices(stores: InMemoryStores) -> None:
    tasks = stores.task_service(CATALOGUE)
    key = await _live(stores)
    grid = await tasks.create(key, "midjourney", "a fox", options={"stylize": "100"})
    assert grid.action == "imagine" and grid.price_micros == 50_000
    with pytest.raises(InvalidRequestError, match="finished"):
        await act(tasks, key, grid.id, "upscale", index=1)
    grid = await _done(stores, grid, (GRID,))
    with pytest.raises(InvalidRequestError) as err:
        await act(tasks, key, grid.id, "upscale", index=5)
    assert err.value.param == "index"
    with pytest.raises(InvalidRequestError) as err:
        await act(tasks, key, grid.id, "pan", options={"direction": "left"})
    assert err.value.param == "action" and "upscale" in err.value.allowed
    up = await act(tasks, key, grid.id, "upscale", index=2)
    assert up.parent_id == grid.id and up.price_micros == 25_000
    assert up.params.options["index"] == 2 and up.params.options["stylize"] == 100  # inherited
    assert up.params.images == ("blob:t/x/0.png",) and up.params.roles == ("source",)
    assert up.seed != grid.seed and up.provider == grid.provider
    _, other = await stores.key_service().create(Mode.LIVE)
    with pytest.raises(NotFoundError):
        await act(tasks, other, grid.id, "upscale", index=1)


async def test_a_caller_cannot_send_our_own_blob_refs(stores: InMemoryStores) -> None:
    tasks = stores.task_service(CATALOGUE)
    _, key = await stores.key_service().create(Mode.TEST)
    with pytest.raises(InvalidRequestError) as err:
        await tasks.create(key, "midjourney", "x", images=["blob:in/abc"], roles=["reference"])
    assert err.value.param == "images[0]"


async def test_a_modal_waits_free_and_is_charged_when_resumed(stores: InMemoryStores) -> None:
    tasks = stores.task_service(CATALOGUE)
    key = await _live(stores)
    grid = await _done(stores, await tasks.create(key, "midjourney", "a fox"), (GRID,))
    up = await _done(stores, await act(tasks, key, grid.id, "upscale", index=1), (GRID,))
    queued = len(stores.queued)
    wait = await act(tasks, key, up.id, "inpaint")
    assert wait.status is Status.WAITING and wait.step is None and wait.price_micros == 0
    assert len(stores.queued) == queued  # nothing to run yet
    held = stores.accounts.held.get(key.account_id, 0)
    mask = "data:image/png;base64," + PIXEL
    resumed = await tasks.resume(key, wait.id, {}, [mask], ["mask"])
    assert resumed.status is Status.QUEUED and resumed.price_micros == 50_000
    assert resumed.params.roles == ("source", "mask")
    assert stores.accounts.held[key.account_id] == held + 50_000
    with pytest.raises(InvalidRequestError, match="not waiting"):
        await tasks.resume(key, wait.id, {}, [mask], ["mask"])


def test_text_and_file_outputs() -> None:
    words = Output("", "text/plain", 5, 0, 0, role="lyrics", text="la la")
    song = Output("t/a/0.mp3", "audio/mpeg", 9, 0, 0, duration_seconds=3.0, role="clip")
    cover = Output("t/a/1.jpg", "image/jpeg", 9, 64, 64, role="cover")
    outs = (words, song, cover)
    assert files(outs) == [song, cover] and files(outs, "cover") == [cover]
    assert texts(outs) == [words]


def test_every_suno_version_is_a_model_with_its_limits() -> None:
    songs = {
        m.wire_name: m
        for m in CATALOGUE.models.values()
        if m.family == "suno" and m.durations and m.id != "suno-upload"  # an upload, not a song
    }
    assert set(songs) == {"chirp-v3-5", "chirp-v4", "chirp-auk", "chirp-bluejay", "chirp-crow"}
    assert songs["chirp-v3-5"].params["tags"].max_length == 200
    assert songs["chirp-crow"].params["tags"].max_length == 1000
    assert songs["chirp-crow"].durations == [480] and songs["chirp-v4"].durations == [240]


def test_banned_words_are_whole_words_of_the_model_or_the_deployment() -> None:
    from mediagate.core.errors import BannedPromptError

    strict = CATALOGUE.with_banned(["Dragon"])
    with pytest.raises(BannedPromptError) as err:
        strict.validate("seedream-3", "a red DRAGON, at dusk")
    assert err.value.word == "dragon" and err.value.param == "prompt"
    strict.validate("seedream-3", "dragonfly")  # a whole word only
    CATALOGUE.validate("seedream-3", "a red dragon")  # the default deployment bans none
    with pytest.raises(BannedPromptError):
        CATALOGUE.validate("midjourney", "porn")  # Midjourney's own list
    assert strict.with_aliases({"x": "seedream-3"}).banned == strict.banned
