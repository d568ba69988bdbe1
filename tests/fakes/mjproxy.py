"""A fake midjourney-proxy server, from midjourney-proxy(-plus)'s API docs and new-api's
relay code: ``mj-api-secret`` auth; submit answers ``{code, description, result}``; tasks
go SUBMITTED -> IN_PROGRESS -> SUCCESS over ``polls`` fetches, with Discord-style buttons;
Vary Region and Custom Zoom answer code 21 until /mj/submit/modal; a prompt containing
``banned`` is code 24; ``queue_full`` set makes every submit code 23."""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image

GRID = ["upsample::{i}", "variation::{i}"]


def grid_buttons(h: str) -> list[dict[str, Any]]:
    out = [{"customId": f"MJ::JOB::upsample::{i}::{h}", "label": f"U{i}"} for i in range(1, 5)]
    out.append({"customId": f"MJ::JOB::reroll::0::{h}::SOLO", "emoji": "🔄", "label": ""})
    out += [{"customId": f"MJ::JOB::variation::{i}::{h}", "label": f"V{i}"} for i in range(1, 5)]
    return out


def single_buttons(h: str) -> list[dict[str, Any]]:
    return [
        {"customId": f"MJ::JOB::upsample_v6_2x_subtle::1::{h}::SOLO", "label": "Upscale (Subtle)"},
        {"customId": f"MJ::JOB::low_variation::1::{h}::SOLO", "label": "Vary (Subtle)"},
        {"customId": f"MJ::Inpaint::1::{h}::SOLO", "label": "Vary (Region)"},
        {"customId": f"MJ::Outpaint::50::1::{h}::SOLO", "label": "Zoom Out 2x"},
        {"customId": f"MJ::CustomZoom::1::{h}", "label": "Custom Zoom"},
        {"customId": f"MJ::JOB::pan_left::1::{h}::SOLO", "label": ""},
    ]


class FakeMidjourneyProxy(FakeVendor):
    name = "mjproxy"

    def __init__(self, secret: str = "mj-secret", polls: int = 2) -> None:
        super().__init__()
        self.secret = secret
        self.polls = polls
        self.queue_full = False
        self.tasks: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        for path in ("imagine", "describe", "blend", "shorten", "action", "modal"):
            app.router.add_post(f"/mj/submit/{path}", self.submit)
        app.router.add_post("/mj/insight-face/swap", self.submit)
        app.router.add_get("/mj/task/{id}/fetch", self.fetch)
        app.router.add_post("/mj/task/list-by-condition", self.list_by_condition)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("mj-api-secret") == self.secret

    def _new(self, action: str, prompt: str, **extra: Any) -> str:
        task_id = str(int(time.time() * 1000)) + secrets.token_hex(3)
        self.tasks[task_id] = {"action": action, "prompt": prompt, "polls": 0, **extra}
        return task_id

    async def submit(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": {"message": "unauthorized"}}, status=401)
        if self.queue_full:
            return web.json_response({"code": 23, "description": "queue full", "result": None})
        body = await request.json()
        kind = request.path.rsplit("/", 1)[1]
        if kind == "swap":
            kind = "swap_face"
        if kind == "modal":
            task = self.tasks.get(body.get("taskId", ""))
            if task is None or task.get("status") != "MODAL":
                return web.json_response({"code": 4, "description": "task_not_found"})
            task["status"] = "SUBMITTED"
            task["mask"] = body.get("maskBase64")
            task["modal_prompt"] = body.get("prompt")
            return web.json_response({"code": 1, "description": "ok", "result": body["taskId"]})
        if kind == "action":
            parent = self.tasks.get(body.get("taskId", ""))
            custom = str(body.get("customId", ""))
            if parent is None or custom not in [b["customId"] for b in parent["buttons"]]:
                return web.json_response({"code": 4, "description": "unknown customId"})
            action = (
                custom.split("::")[2] if custom.startswith("MJ::JOB::") else custom.split("::")[1]
            )
            single = action == "upsample"
            task_id = self._new(action.upper(), parent["prompt"], custom=custom, single=single)
            if action in ("Inpaint", "CustomZoom"):
                self.tasks[task_id]["status"] = "MODAL"
                return web.json_response({"code": 21, "description": "窗口等待", "result": task_id})
            return web.json_response({"code": 1, "description": "提交成功", "result": task_id})
        prompt = str(body.get("prompt", ""))
        if "banned" in prompt:
            return web.json_response(
                {
                    "code": 24,
                    "description": "可能包含敏感词",
                    "properties": {"bannedWord": "banned"},
                }
            )
        task_id = self._new(kind.upper(), prompt, body=body)
        return web.json_response(
            {"code": 22 if len(self.tasks) % 2 else 1, "description": "ok", "result": task_id}
        )

    def _view(self, task_id: str, advance: bool) -> dict[str, Any]:
        task = self.tasks[task_id]
        if advance and task.get("status") != "MODAL":
            task["polls"] += 1
        done = task["polls"] >= self.polls and task.get("status") != "MODAL"
        status = (
            task.get("status")
            if task.get("status") == "MODAL"
            else ("SUCCESS" if done else ("IN_PROGRESS" if task["polls"] else "SUBMITTED"))
        )
        if done and "[fake:fail]" in task["prompt"]:
            status = "FAILURE"
        image = ""
        final = task["prompt"]
        if status == "SUCCESS" and task["action"] != "SHORTEN":
            image = self.add_file(f"{task_id}.png", sample_image("PNG", (512, 512)), "image/png")
        if task["action"] == "DESCRIBE":
            final = "1️⃣ a fake prompt\n\n2️⃣ another\n\n3️⃣ third\n\n4️⃣ fourth"
        if task["action"] == "SHORTEN":
            final = "**Important tokens**\ncastle"
        buttons = []
        if status == "SUCCESS" and task["action"] not in ("DESCRIBE", "SHORTEN"):
            buttons = single_buttons(task_id) if task.get("single") else grid_buttons(task_id)
        task["buttons"] = buttons
        return {
            "id": task_id,
            "action": task["action"],
            "prompt": task["prompt"],
            "status": status,
            "progress": "100%" if status == "SUCCESS" else f"{min(99, task['polls'] * 40)}%",
            "imageUrl": image,
            "failReason": "sensitive content" if status == "FAILURE" else "",
            "buttons": buttons,
            "properties": {"finalPrompt": final},
        }

    async def fetch(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": {"message": "unauthorized"}}, status=401)
        task_id = request.match_info["id"]
        if task_id not in self.tasks:
            return web.json_response(
                {"description": "task_no_found", "type": "upstream_error", "code": 4}, status=400
            )
        return web.json_response(self._view(task_id, advance=True))

    async def list_by_condition(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": {"message": "unauthorized"}}, status=401)
        ids = (await request.json()).get("ids", [])
        return web.json_response([self._view(i, advance=True) for i in ids if i in self.tasks])
