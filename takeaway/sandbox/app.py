"""The sandbox app: the vendor stand-ins mounted under one server, plus fault injection.

Each vendor module (`jira`, `asana`, `servicenow`, `slack`) defines a class `Vendor(people)` with
an APIRouter `router` (mounted at ``/<name>``), `state() -> dict` (what it holds, for tests) and
`reset()` (forget everything but the users).

Control endpoints:
- ``POST /_sandbox/faults`` with a `Fault` adds a fault; ``DELETE /_sandbox/faults`` clears them.
- ``POST /_sandbox/reset`` clears faults and every vendor's data (users stay).
- ``GET /_sandbox/<vendor>`` returns that vendor's state.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from takeaway.people import Person

VENDORS = ("jira", "asana", "servicenow", "slack")


class Fault(BaseModel):
    vendor: str
    method: str = "*"
    path: str = ""  # a substring of the path below the vendor's prefix
    status: int = 503
    times: int = 1  # how many matching requests fail
    after: int = 0  # let this many matching requests through first
    retry_after: float | None = None  # sent as the Retry-After header
    commit: bool = False  # the vendor does the work, then the reply is lost (answered with `status`)
    delay_s: float = 0.0  # wait this long before answering (e.g. to kill a client mid-request)


class Faults:
    def __init__(self) -> None:
        self.items: list[Fault] = []
        self.lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self.lock:
            self.items.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def take(self, vendor: str, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.items:
                if f.vendor == vendor and f.method in ("*", method) and f.path in path and f.times > 0:
                    if f.after > 0:
                        f.after -= 1
                        return None
                    f.times -= 1
                    return f
        return None


def fault_response(fault: Fault) -> JSONResponse:
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    message = f"sandbox fault {fault.status}"
    body = {"slack": {"ok": False, "error": "ratelimited" if fault.status == 429 else "fatal_error"},
            "asana": {"errors": [{"message": message}]},
            "servicenow": {"error": {"message": message, "detail": ""}, "status": "failure"},
            }.get(fault.vendor, {"errorMessages": [message], "errors": {}})
    return JSONResponse(body, status_code=fault.status, headers=headers)


def create_app(people: list[Person]) -> FastAPI:
    app = FastAPI(title="Takeaway sandbox")
    faults = Faults()
    vendors = {}
    for name in VENDORS:
        module = importlib.import_module(f"takeaway.sandbox.{name}")
        vendors[name] = module.Vendor(people)
        app.include_router(vendors[name].router, prefix=f"/{name}")
    app.state.faults, app.state.vendors = faults, vendors

    @app.middleware("http")
    async def inject(request: Request, call_next):
        vendor, _, rest = request.url.path.lstrip("/").partition("/")
        fault = faults.take(vendor, request.method, "/" + rest) if vendor in vendors else None
        if fault is None:
            return await call_next(request)
        if fault.commit:
            await call_next(request)
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        return fault_response(fault)

    @app.post("/_sandbox/faults")
    def add_fault(fault: Fault) -> dict:
        faults.add(fault)
        return {"ok": True}

    @app.delete("/_sandbox/faults")
    def clear_faults() -> dict:
        faults.clear()
        return {"ok": True}

    @app.post("/_sandbox/reset")
    def reset() -> dict:
        faults.clear()
        for v in vendors.values():
            v.reset()
        return {"ok": True}

    @app.get("/_sandbox/{vendor}")
    def vendor_state(vendor: str) -> dict:
        return vendors[vendor].state()

    return app


@contextmanager
def running(people: list[Person], host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the sandbox in a thread; yields its base URL (``http://127.0.0.1:<port>``)."""
    app = create_app(people)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve(people: list[Person], host: str = "127.0.0.1", port: int = 8765) -> None:
    uvicorn.run(create_app(people), host=host, port=port, log_level="info")


__all__ = ["Fault", "create_app", "running", "serve"]
