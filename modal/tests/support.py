"""Loads modal/launcher.py with the fake `modal` module in `sys.modules`, and signs requests the way the Worker does.

The fake is put in place only while the launcher module executes, then the previous entries come back: under
`unittest discover -t .` the name `modal` also denotes this repository's `modal/` folder, whose `tests` package
is being imported.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from . import fake_modal

LAUNCHER_PATH = Path(__file__).resolve().parents[1] / "launcher.py"
CASES: dict[str, Any] = json.loads(Path(__file__).with_name("launcher_cases.json").read_text(encoding="utf-8"))
SECRET: str = CASES["secret"]
NOW: int = CASES["now"]
JIT: str = CASES["jit"]
BASE: dict[str, dict[str, Any]] = CASES["base"]


def _load() -> tuple[ModuleType, fake_modal.State]:
    names = ("modal", "modal.exception")
    saved = {name: sys.modules.get(name) for name in names}
    fake = fake_modal.build_module()
    sys.modules["modal"] = fake
    sys.modules["modal.exception"] = fake.exception
    try:
        spec = importlib.util.spec_from_file_location("aom_launcher_under_test", LAUNCHER_PATH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module, fake_modal.STATE


# What the module did while it was imported (the Modal app definition) stays in this state.
launcher, definition_state = _load()


def sign(secret: str, timestamp: str, route: str, body: bytes) -> str:
    """Written independently of launcher.signature_for: the tests must not trust the code they test."""
    message = f"{timestamp}.{route}.".encode() + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(route: str, body: bytes, *, secret: str = SECRET, now: float = NOW) -> dict[str, str]:
    timestamp = str(int(now))
    return {"x-launcher-timestamp": timestamp, "x-launcher-signature": sign(secret, timestamp, route, body)}


def encode(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")


class Harness:
    """A fresh fake Modal, a backend, an environment and a log sink: one per test."""

    def __init__(self, environ: dict[str, str] | None = None):
        self.state = fake_modal.reset()
        self.backend = launcher.ModalBackend(clock=lambda: NOW + 0.25)
        self.environ = {"LAUNCHER_SECRET": SECRET} if environ is None else environ
        self.logs: list[dict[str, Any]] = []

    def call(
        self,
        route: str,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        now: float = NOW,
        method: str = "POST",
        path: str | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        raw = encode(body)
        return launcher.handle_request(
            method,
            path if path is not None else f"/{route}",
            headers if headers is not None else signed_headers(route, raw, now=now),
            raw,
            backend=self.backend,
            environ=self.environ,
            now=now,
            log=self.logs.append,
        )

    def start(self, **overrides: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        return self.call("start", {**BASE["start"], **overrides})

    def log_text(self) -> str:
        return "\n".join(json.dumps(record) for record in self.logs)
