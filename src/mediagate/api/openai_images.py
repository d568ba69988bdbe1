"""OpenAI's images endpoints: generations (JSON) and edits (multipart or JSON), answered
synchronously: the request waits for its task and returns the images inline or as links."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import UploadFile

from mediagate.api.common import (
    api_key,
    dialect_router,
    idempotency_key,
    output_urls,
    runtime_of,
)
from mediagate.api.forms import form_int, form_text, read_upload
from mediagate.api.openai_shared import (
    error_response,
    make_handler,
    nearest_ratio,
    ratio_for_size,
    task_failure,
    wrong_kind,
)
from mediagate.core.catalogue import Kind
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import data_url, image_ref
from mediagate.core.tasks import Status, files, format_of

NO_CALLBACKS = (
    "is not taken here: the images endpoints answer with the images themselves; for a webhook, "
    "create the task with POST /v1/media/create and its callback_url"
)
FIELD_NAMES = {"sample_count": "n", "aspect_ratio": "size", "images": "image"}
FORMATS = ["b64_json", "url"]
WAIT_MARGIN_S = 30.0


class GenerateBody(msgspec.Struct):
    """OpenAI's fields that mean something here; the rest (quality, style, ...) are ignored."""

    prompt: str
    model: str | None = None
    n: int | None = None
    size: str | None = None
    response_format: str | None = None
    aspect_ratio: str | None = None  # mediagate extension: the catalogue ratio directly
    callback_url: str | None = None  # refused: these endpoints answer in the response
    stream: bool | None = None  # refused: no partial images
    partial_images: int | None = None


class ImageRef(msgspec.Struct):
    image_url: str | None = None


class EditJsonBody(msgspec.Struct):
    prompt: str
    model: str | None = None
    images: list[ImageRef] | None = None
    image: str | None = None
    n: int | None = None
    size: str | None = None
    response_format: str | None = None
    callback_url: str | None = None


class ImageData(msgspec.Struct, omit_defaults=True):
    b64_json: str | None = None
    url: str | None = None


class ImagesResponse(msgspec.Struct):
    created: int
    data: list[ImageData]
    size: str
    output_format: str


# OpenAI's own limits on n, for its names (an alias runs as many tasks as it takes).
MAX_N = {"dall-e-3": 1}
OPENAI_MAX_N = 10
# OpenAI answers links by default for DALL-E; gpt-image-1 (and mediagate's models) inline.
URL_BY_DEFAULT = ("dall-e-2", "dall-e-3")


async def _generate(
    request: Request[Any, Any, Any],
    model: str | None,
    prompt: str,
    n: int | None,
    size: str | None,
    response_format: str | None,
    images: list[str] | None,
    aspect_ratio: str | None = None,
) -> Response[Any]:
    rt = runtime_of(request)
    image_models = sorted(m.id for m in rt.catalogue.models.values() if m.kind is Kind.IMAGE)
    asked = model or rt.settings.default_image_model
    spec = rt.catalogue.get(asked)
    if spec.kind is not Kind.IMAGE:
        raise wrong_kind(spec, image_models)
    fmt = response_format or ("url" if asked in URL_BY_DEFAULT else "b64_json")
    if fmt not in FORMATS:
        raise InvalidRequestError("response_format", f"{fmt!r} is not supported", FORMATS)
    alias = asked != spec.id
    if alias:  # what the name accepts: its sizes onto the nearest ratio, n as several tasks
        ratio = aspect_ratio or nearest_ratio(spec, size)
        count = 1 if n is None else n
        most = MAX_N.get(asked, OPENAI_MAX_N)
        if not 1 <= count <= most:
            raise InvalidRequestError("n", f"{count} is out of range for {asked}", [f"1..{most}"])
        batches = _batches(count, spec.max_samples)
    else:
        ratio = aspect_ratio or ratio_for_size(spec, size)
        batches = [n]
    key = api_key(request)
    idem = idempotency_key(request)
    made = [
        await rt.tasks.create(
            key,
            asked,
            prompt,
            aspect_ratio=ratio,
            images=images,
            sample_count=count,
            idempotency_key=idem if idem is None or not i else f"{idem}#{i}",
            batch=i,
        )
        for i, count in enumerate(batches)
    ]
    done = [await rt.tasks.wait(key, t.id, spec.deadline_s + WAIT_MARGIN_S) for t in made]
    ids = ",".join(t.id for t in done)
    for task in done:
        if task.status is Status.DONE:
            continue
        if not task.status.terminal:
            return error_response(
                504,
                "server_error",
                "timeout",
                f"task {task.id} is still running; read it at GET /v1/media/result?task_id="
                f"{task.id}",
            )
        return task_failure(task.error, task.id)
    outs = [out for task in done for out in files(task.outputs)]
    if fmt == "url":
        data = [ImageData(url=url) for task in done for url in output_urls(request, task)]
    else:
        data = [
            ImageData(b64_json=base64.b64encode(await rt.blobs.read(out.key)).decode())
            for out in outs
        ]
    body = ImagesResponse(
        created=int(done[0].created_at),
        data=data,
        size=f"{outs[0].width}x{outs[0].height}",
        output_format=format_of(done[0].outputs, spec.format),
    )
    return Response(body, headers={"x-mediagate-task-id": ids})


def _batches(count: int, per_task: int) -> list[int | None]:
    """``count`` images as tasks of at most ``per_task`` samples each."""
    full, rest = divmod(count, max(per_task, 1))
    sizes = [per_task] * full + ([rest] if rest else [])
    return [None if size == 1 else size for size in sizes]


@post("/v1/images/generations", status_code=200, summary="Generate images (OpenAI format)")
async def generations(request: Request[Any, Any, Any], data: GenerateBody) -> Response[Any]:
    """``size`` maps onto the model's aspect ratios; ``response_format`` is ``b64_json``
    (default) or ``url`` (a permanent mediagate link)."""
    if data.callback_url is not None:
        raise InvalidRequestError("callback_url", NO_CALLBACKS)
    if data.stream or data.partial_images:
        raise InvalidRequestError(
            "stream",
            "streaming partial images is not supported here; call without stream=True (the "
            "answer comes when the images are done)",
        )
    return await _generate(
        request,
        data.model,
        data.prompt,
        data.n,
        data.size,
        data.response_format,
        None,
        data.aspect_ratio,
    )


async def _form_images(form: Any) -> list[str]:
    if form.get("mask") is not None:
        raise InvalidRequestError("mask", "masks are not supported; the whole image is edited")
    parts = [*form.getall("image", []), *form.getall("image[]", [])]
    refs = []
    for i, part in enumerate(parts):
        name = "image" if len(parts) == 1 else f"image[{i}]"
        if isinstance(part, UploadFile):
            refs.append(data_url(await read_upload(part, name), name))
        else:
            refs.append(image_ref(str(part), name))
    if not refs:
        raise InvalidRequestError("image", "is required: one file part (or image[] parts)")
    return refs


@post("/v1/images/edits", status_code=200, summary="Edit an image (OpenAI format)")
async def edits(request: Request[Any, Any, Any]) -> Response[Any]:
    """Multipart as the OpenAI SDK sends it (``image`` or ``image[]`` files), or JSON with
    ``images: [{image_url}]``."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = msgspec.json.decode(await request.body(), type=EditJsonBody)
        except msgspec.ValidationError as exc:
            raise InvalidRequestError("body", str(exc)) from None
        except msgspec.DecodeError:
            raise InvalidRequestError("body", "is not valid JSON") from None
        refs = [
            image_ref(ref.image_url, f"images[{i}].image_url")
            for i, ref in enumerate(body.images or [])
            if ref.image_url
        ]
        if body.callback_url is not None:
            raise InvalidRequestError("callback_url", NO_CALLBACKS)
        if body.image:
            refs.insert(0, image_ref(body.image, "image"))
        if not refs:
            raise InvalidRequestError("images", "is required: [{image_url: ...}]")
        return await _generate(
            request, body.model, body.prompt, body.n, body.size, body.response_format, refs
        )
    if not ctype.startswith("multipart/form-data"):
        raise InvalidRequestError(
            "Content-Type", f"{ctype or 'none'} is not accepted", ["multipart/form-data"]
        )
    form = await request.form()
    if form_text(form, "callback_url") is not None:
        raise InvalidRequestError("callback_url", NO_CALLBACKS)
    prompt = form_text(form, "prompt")
    if not prompt:
        raise InvalidRequestError("prompt", "is required")
    refs = await _form_images(form)
    return await _generate(
        request,
        form_text(form, "model"),
        prompt,
        form_int(form, "n"),
        form_text(form, "size"),
        form_text(form, "response_format"),
        refs,
    )


_handle = make_handler(FIELD_NAMES)

router = dialect_router([generations, edits], _handle, "OpenAI images")
