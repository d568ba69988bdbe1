"""The console's models page for admins: every media model of the catalogue with its price
(the catalogue's, or the one set here), its routes in order (the ones this deployment can
use marked), and each route's channels; an admin sets a model's price here (kept in the
database, over the catalogue's and MEDIAGATE_PRICES, read again by every process)."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from mediagate.api.common import runtime_of
from mediagate.core.money import to_micros
from mediagate.web import console as c


@get("/console/admin/models", include_in_schema=False, guards=[c.signed_in])
async def models_page(request: Request[Any, Any, Any]) -> Template:
    c._admin(request)
    rt = runtime_of(request)
    channels = rt.channels.channels if rt.channels is not None else []
    rows = []
    for spec in sorted(rt.catalogue.models.values(), key=lambda m: (m.family or m.vendor, m.id)):
        routes = [
            {"provider": r.provider, "model": r.model,
             "usable": rt.providers.configured(r.provider),
             "channels": sum(1 for ch in channels if ch.provider == r.provider and ch.enabled)}
            for r in rt.providers.routes_of(spec.id)
        ]  # fmt: skip
        set_here = rt.tasks.price_of(spec.id)
        rows.append({"spec": spec, "price": set_here or spec.price, "set": set_here,
                     "routes": routes})  # fmt: skip
    return c.page(request, "models.html", rows=rows)


@post("/console/admin/models/{model:str}/price", include_in_schema=False, guards=[c.signed_in],
      status_code=303)  # fmt: skip
async def set_price(request: Request[Any, Any, Any], model: str) -> Redirect:
    c._admin(request)
    rt = runtime_of(request)
    spec = rt.catalogue.get(model)
    given = str((await request.form()).get("price") or "").strip()
    if given:
        to_micros(given, "price")  # a price it can hold: refused here if not
    await rt.price_repo.set(spec.id, given or None, time.time())
    await rt.load_prices()
    return Redirect(f"/console/admin/models#{spec.id}", status_code=303)


MODEL_PAGES = [models_page, set_price]
