"""Serves stored results at signed URLs: no API key needed, unguessable, Range-aware."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from typing import Any

from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Stream

from mediagate.api.common import runtime_of
from mediagate.core.tasks import Status, Task, files
from mediagate.runtime import Runtime
from mediagate.storage.blobs import BlobNotFound
from mediagate.storage.frames import first_frame_capped

# ASCII digits, at most 18 (no file is an exabyte): anything else is not a range we honour,
# and the whole file is sent, as RFC 9110 allows.
_RANGE_RE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")
SERVED = ("t/", "up/")
_TYPES = {".webp": "image/webp", ".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg"}


def content_type_for(key: str) -> str:
    for ext, ctype in _TYPES.items():
        if key.endswith(ext):
            return ctype
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) for a single satisfiable byte range; None for the whole file."""
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    if match.group(1):
        start = int(match.group(1))
        end = int(match.group(2)) + 1 if match.group(2) else size
    else:
        start, end = max(0, size - int(match.group(2))), size
    return start, min(end, size)


@get("/v1/files/{key:path}", include_in_schema=True, summary="Download a result (signed URL)")
async def download(
    request: Request[Any, Any, Any],
    key: str,
    sig: str = Parameter(query="sig", default=""),
    exp: str | None = Parameter(query="exp", default=None),
) -> Response[Any]:
    rt = runtime_of(request)
    key = key.lstrip("/")
    # Results (t/) and clients' uploads (up/); never the inputs kept for tasks (in/).
    if not sig or not rt.signer.verify(key, sig, exp) or not key.startswith(SERVED):
        raise NotFoundException("file not found")
    return await blob_response(request, key)


async def blob_response(request: Request[Any, Any, Any], key: str) -> Response[Any]:
    """Stream a stored blob, honouring a single Range; 404 if it is gone."""
    rt = runtime_of(request)
    try:
        size = await rt.blobs.size(key)
    except BlobNotFound:
        raise NotFoundException("file not found") from None
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    ctype = content_type_for(key)
    span = _parse_range(request.headers.get("range"), size)
    if span is not None:
        start, end = span
        if start >= size or start >= end:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(b"", status_code=416, headers=headers, media_type=ctype)
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        return Stream(
            rt.blobs.stream(key, start, end), status_code=206, headers=headers, media_type=ctype
        )
    headers["Content-Length"] = str(size)
    return Stream(rt.blobs.stream(key), headers=headers, media_type=ctype)


router = Router(path="/", route_handlers=[download], tags=["files"])


async def still_of(rt: Runtime, video_key: str) -> str | None:
    """The stored still of a video (its first frame, JPEG), made on first request and kept
    beside it: OpenAI's thumbnail, a vendor's cover image. None when the file has no frame
    to take (an upstream's broken video)."""
    key = video_key.rsplit(".", 1)[0] + ".thumb.jpg"
    try:
        await rt.blobs.size(key)
    except BlobNotFound:
        video = await rt.blobs.read(video_key)
        loop = asyncio.get_running_loop()  # decoded in the render pool, never in the server
        try:
            still = await loop.run_in_executor(rt.render_pool, first_frame_capped, video)
        except ValueError:
            return None
        await rt.blobs.put(key, still)
    return key


async def videos_with_covers(rt: Runtime, root: str, task: Task) -> list[tuple[str, str]]:
    """A finished task's (video link, cover link) pairs; the cover is the video's first
    frame (``still_of``). Empty until the task is done."""
    if task.status is not Status.DONE:
        return []
    found = []
    for out in files(task.outputs):
        cover = await still_of(rt, out.key)
        found.append((rt.link(root, out.key), rt.link(root, cover) if cover else ""))
    return found
