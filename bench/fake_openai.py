"""A minimal OpenAI-compatible images upstream for benchmarks: every
``POST /v1/images/generations`` is answered at once with the same PNG, as base64.

    python bench/fake_openai.py PORT
"""

from __future__ import annotations

import base64
import io
import json
import sys

from aiohttp import web
from PIL import Image


def main() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), (90, 140, 200)).save(buf, format="PNG")
    body = json.dumps(
        {
            "created": 1700000000,
            "data": [{"b64_json": base64.b64encode(buf.getvalue()).decode()}],
            "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110},
        }
    ).encode()

    async def generations(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/images/generations", generations)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
