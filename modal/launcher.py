"""The actions-on-modal launcher: a small Modal app that starts runner sandboxes with Modal's own SDK.

The Worker's launcher mode calls it instead of speaking Modal's gRPC protocol itself (see the README's "Modes").

Deploy (Modal SDK 1.4.3 or later: `Sandbox.create(tags=...)` appeared in 1.4.3):

    modal secret create actions-on-modal-launcher LAUNCHER_SECRET=<random> [LAUNCHER_ALLOWED_IMAGES=...]
    modal deploy modal/launcher.py                  # or: modal deploy --name <app name> modal/launcher.py

`modal deploy` prints the endpoint URL, which becomes the Worker's MODAL_LAUNCHER_URL. The app name is changed with
`--name` rather than an environment variable because Modal re-imports this file in the container, where deploy-time
environment variables do not exist.

Protocol (the rules live in launcher_protocol.json, shared with the TypeScript emulator): POST /app, /image,
/start, /list, /terminate with a JSON body. Two locks on the door:
- Modal's proxy auth (`requires_proxy_auth=True`): the caller sends a workspace proxy auth token as `Modal-Key` /
  `Modal-Secret`, checked by Modal before a request reaches this code;
- an HMAC-SHA256 with LAUNCHER_SECRET over `<timestamp>.<route>.<raw body>`, sent as `x-launcher-timestamp` (unix
  seconds) and `x-launcher-signature: sha256=<hex>`, so a leaked proxy token alone cannot start runners. A timestamp
  more than 300 s off is refused, so a captured request cannot be replayed later; within the window a replay is
  harmless, because every endpoint is idempotent (a sandbox name is unique among an app's running sandboxes).

Images: /image and /start refuse an image not in LAUNCHER_ALLOWED_IMAGES (403 image_not_allowed), a comma-separated
list in the same Modal secret where `*` matches any run of characters. Unset or empty, it allows the official runner
image only (`ghcr.io/actions/actions-runner:*`). Setting it replaces that default, so an operator who adds images
(the Worker's RUNNER_IMAGES, besides its default image) lists every image the Worker may ask for, the default too:
    modal secret create --force actions-on-modal-launcher LAUNCHER_SECRET=<same> \
        LAUNCHER_ALLOWED_IMAGES='ghcr.io/actions/actions-runner:*,ghcr.io/acme/runner-cuda:*'
The secret is read when a container starts: after changing it, redeploy (or wait for idle containers to scale down).

Sizing: /start carries cpu, memory_mib, timeout_seconds, and optionally gpu (`L4`, `H100:2`) and regions (a list of
Modal region names, passed as `Sandbox.create(region=...)`; absent means any region, an empty list is refused).

Burst latency: with the default `min_containers=0`, the first request after `scaledown_window` of quiet waits for
a container to start (a few seconds). Keep one warm without redeploying:
    python -c 'import modal; modal.Function.from_name("actions-on-modal-launcher", "web").update_autoscaler(min_containers=1)'
(an idle container is billed), or change MIN_CONTAINERS below and redeploy. One container serves up to
MAX_CONCURRENT_REQUESTS requests at once, so bursts rarely need a second one.

Secrets: `env` (the runner's JIT config) goes to Modal as a secret and nowhere else: it is never logged, never put
in an error, and Modal's own error texts are scrubbed of it before they are logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import modal

PROTOCOL_FILE = "launcher_protocol.json"
PROTOCOL: dict[str, Any] = json.loads(Path(__file__).with_name(PROTOCOL_FILE).read_text(encoding="utf-8"))
ROUTES: dict[str, dict[str, list[str]]] = PROTOCOL["routes"]
REASONS: dict[str, dict[str, Any]] = PROTOCOL["reasons"]
PATTERNS = {name: re.compile(pattern) for name, pattern in PROTOCOL["patterns"].items()}
LIMITS: dict[str, Any] = PROTOCOL["limits"]
SIGNATURE: dict[str, Any] = PROTOCOL["signature"]
RESERVED_PREFIX: str = PROTOCOL["reservedTagPrefix"]
NAME_TAG: str = PROTOCOL["reservedTags"]["name"]
CREATED_AT_TAG: str = PROTOCOL["reservedTags"]["createdAt"]

APP_NAME = "actions-on-modal-launcher"
SECRET_NAME = "actions-on-modal-launcher"
MIN_CONTAINERS = 0
MAX_CONCURRENT_REQUESTS = 16
MIN_MODAL_VERSION = (1, 4, 3)
# Values this short cannot be told apart from ordinary words, so scrubbing them would garble logs.
MIN_SCRUB_LENGTH = 6

Log = Callable[[dict[str, Any]], None]


class LauncherError(Exception):
    """A refusal with a stable reason from the protocol table. `detail` goes to the log only, never to the caller."""

    def __init__(self, reason: str, field: str | None = None, detail: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.detail = detail
        self.status: int = REASONS[reason]["status"]
        self.retry_after: int | None = REASONS[reason].get("retryAfterSeconds")

    def body(self) -> dict[str, Any]:
        message = REASONS[self.reason]["error"]
        body: dict[str, Any] = {"error": f"{message}: {self.field}" if self.field else message, "reason": self.reason}
        if self.field:
            body["field"] = self.field
        return body


# --- signature -----------------------------------------------------------------------------------------------------


def signature_for(secret: str, timestamp: str, route: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + route.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def check_signature(headers: Mapping[str, str], route: str, body: bytes, secret: str, now: float) -> None:
    timestamp = headers.get(SIGNATURE["timestampHeader"], "")
    signature = headers.get(SIGNATURE["signatureHeader"], "")
    if not re.fullmatch(SIGNATURE["timestampFormat"], timestamp) or not re.fullmatch(
        SIGNATURE["signatureFormat"], signature
    ):
        raise LauncherError("missing_signature")
    if not hmac.compare_digest(signature_for(secret, timestamp, route, body), signature):
        raise LauncherError("bad_signature")
    if abs(now - int(timestamp)) > SIGNATURE["maxSkewSeconds"]:
        raise LauncherError("stale_timestamp")


# --- validation ----------------------------------------------------------------------------------------------------


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _matches(pattern: str, value: Any) -> bool:
    return isinstance(value, str) and PATTERNS[pattern].fullmatch(value) is not None


def _number_within(value: Any, bounds: Mapping[str, float], integer: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and (not math.isfinite(value) or (integer and not value.is_integer())):
        return False
    return bounds["min"] <= value <= bounds["max"]


def _valid_command(value: Any) -> bool:
    items = LIMITS["commandItems"]
    return (
        isinstance(value, list)
        and items["min"] <= len(value) <= items["max"]
        and all(
            isinstance(item, str)
            and item != ""
            and "\x00" not in item
            and _utf8_bytes(item) <= LIMITS["commandItemBytes"]
            for item in value
        )
    )


def _valid_env(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) <= LIMITS["envEntries"]
        and all(
            _matches("envKey", key) and isinstance(item, str) and _utf8_bytes(item) <= LIMITS["envValueBytes"]
            for key, item in value.items()
        )
    )


def _valid_tags(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) <= LIMITS["tags"]
        and all(
            _matches("tagKey", key) and not key.startswith(RESERVED_PREFIX) and _matches("tagValue", item)
            for key, item in value.items()
        )
    )


def _valid_regions(value: Any) -> bool:
    # Absent or null: any region. An empty list is refused rather than read as "any": it says "nowhere".
    bounds = LIMITS["regions"]
    return value is None or (
        isinstance(value, list)
        and bounds["min"] <= len(value) <= bounds["max"]
        and all(_matches("region", item) for item in value)
        and len(set(value)) == len(value)
    )


VALIDATORS: dict[str, Callable[[Any], bool]] = {
    "name": lambda value: _matches("sandboxName", value),
    "environment": lambda value: value is None or _matches("environment", value),
    "app": lambda value: _matches("appHandle", value),
    "image": lambda value: _matches("image", value),
    "command": _valid_command,
    "env": _valid_env,
    "cpu": lambda value: _number_within(value, LIMITS["cpu"], integer=False),
    "memory_mib": lambda value: _number_within(value, LIMITS["memoryMiB"], integer=True),
    "timeout_seconds": lambda value: _number_within(value, LIMITS["timeoutSeconds"], integer=True),
    "tags": _valid_tags,
    "gpu": lambda value: value is None or _matches("gpu", value),
    "regions": _valid_regions,
    "sandbox_id": lambda value: _matches("sandboxId", value),
}


def parse_body(route: str, body: bytes) -> dict[str, Any]:
    def reject_constant(_: str) -> Any:
        raise ValueError("NaN and Infinity are not JSON")

    try:
        request = json.loads(body.decode("utf-8"), parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise LauncherError("invalid_json") from error
    if not isinstance(request, dict):
        raise LauncherError("invalid_json")
    spec = ROUTES[route]
    unknown = sorted(key for key in request if key not in spec["fields"])
    if unknown:
        # Name the field only when it looks like one: a key is caller data too.
        raise LauncherError("invalid_request", unknown[0] if _matches("envKey", unknown[0]) else "(unknown)")
    for field in spec["fields"]:
        if field not in request:
            if field in spec["required"]:
                raise LauncherError("invalid_request", field)
        elif not VALIDATORS[field](request[field]):
            raise LauncherError("invalid_request", field)
    if route == "start":
        # Names, arguments and tags show in Modal's dashboard and in logs. An env value found there would leak a
        # credential (the JIT config): refuse the request rather than carry it out.
        visible = [request["name"], *request["command"], *request["tags"].keys(), *request["tags"].values()]
        secrets = [value for value in request["env"].values() if _utf8_bytes(value) >= LIMITS["secretLikeBytes"]]
        if any(secret in text for secret in secrets for text in visible):
            raise LauncherError("invalid_request", "env")
    return request


def allowed_image_patterns(environ: Mapping[str, str]) -> list[str]:
    configured = [entry.strip() for entry in environ.get("LAUNCHER_ALLOWED_IMAGES", "").split(",")]
    return [entry for entry in configured if entry] or [PROTOCOL["defaultAllowedImages"]]


def image_allowed(image: str, patterns: list[str]) -> bool:
    """`*` matches any run of characters; everything else is literal."""
    return any(re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), image) for pattern in patterns)


# --- Modal ---------------------------------------------------------------------------------------------------------


def _exception_classes(*names: str) -> tuple[type[BaseException], ...]:
    # Older SDKs lack some of these classes: map what exists.
    found = (getattr(modal.exception, name, None) for name in names)
    return tuple(cls for cls in found if isinstance(cls, type))


def _modal_failure(error: Exception, scrub: Callable[[str], str]) -> LauncherError:
    detail = scrub(f"{type(error).__name__}: {error}")[:300]
    if isinstance(error, _exception_classes("ImageBuildError")):
        return LauncherError("image_build_failed", detail=detail)
    if isinstance(error, _exception_classes("AuthError", "PermissionDeniedError")):
        return LauncherError("modal_denied", detail=detail)
    if isinstance(error, _exception_classes("ResourceExhaustedError")):
        return LauncherError("modal_capacity", detail=detail)
    if isinstance(error, _exception_classes("InvalidError", "NotFoundError", "AlreadyExistsError")):
        return LauncherError("modal_rejected", detail=detail)
    if isinstance(
        error,
        _exception_classes("TimeoutError", "ConnectionError", "InternalError", "ServiceError", "InternalFailure"),
    ):
        return LauncherError("modal_unavailable", detail=detail)
    return LauncherError("internal", detail=detail)


def _split_handle(handle: str) -> tuple[str | None, str]:
    environment, _, name = handle.rpartition("/")
    return (environment or None), name


class ModalBackend:
    """Modal SDK calls, with the app and image objects cached for the container's lifetime (two threads may fill a
    cache entry at once; both results are equivalent, so no lock)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._apps: dict[str, Any] = {}
        self._images: dict[str, Any] = {}

    def _app(self, handle: str) -> Any:
        if handle not in self._apps:
            environment, name = _split_handle(handle)
            self._apps[handle] = modal.App.lookup(name, environment_name=environment, create_if_missing=True)
        return self._apps[handle]

    def _image(self, tag: str) -> Any:
        if tag not in self._images:
            self._images[tag] = modal.Image.from_registry(tag)
        return self._images[tag]

    def ensure_app(self, name: str, environment: str | None) -> dict[str, Any]:
        handle = name if environment is None else f"{environment}/{name}"
        self._app(handle)
        return {"app": handle}

    def ensure_image(self, app: str, image: str) -> dict[str, Any]:
        # The image is built by Modal on the first sandbox that uses it; the handle is the tag itself.
        self._image(image)
        return {"image": image}

    def start(self, request: dict[str, Any]) -> dict[str, Any]:
        app, name, env = request["app"], request["name"], request["env"]
        tags = {**request["tags"], NAME_TAG: name, CREATED_AT_TAG: f"{self._clock():.3f}"}
        try:
            sandbox = modal.Sandbox.create(
                *request["command"],
                app=self._app(app),
                name=name,
                tags=tags,
                image=self._image(request["image"]),
                secrets=[modal.Secret.from_dict(env)] if env else [],
                cpu=float(request["cpu"]),
                memory=int(request["memory_mib"]),
                timeout=int(request["timeout_seconds"]),
                gpu=request.get("gpu"),
                # Modal takes one region or a list; None lets it schedule anywhere.
                region=request.get("regions"),
            )
            return {"sandbox_id": sandbox.object_id, "already_started": False}
        except modal.exception.AlreadyExistsError:
            pass
        # Someone (an earlier attempt whose answer was lost) already started this runner: that sandbox is the answer.
        environment, app_name = _split_handle(app)
        try:
            existing = modal.Sandbox.from_name(app_name, name, environment_name=environment)
        except modal.exception.NotFoundError as error:
            # It finished between the two calls, freeing the name: a retry will create it afresh.
            raise LauncherError("name_conflict") from error
        return {"sandbox_id": existing.object_id, "already_started": True}

    def list(self, app: str, tags: dict[str, str]) -> dict[str, Any]:
        sandboxes: list[dict[str, Any]] = []
        truncated = False
        for sandbox in modal.Sandbox.list(app_id=self._app(app).app_id, tags=tags or None):
            if len(sandboxes) >= LIMITS["listMax"]:
                truncated = True
                break
            try:
                all_tags = sandbox.get_tags()
            except modal.exception.NotFoundError:
                continue  # finished while we listed
            # The SDK exposes neither a sandbox's name nor its creation time: /start records both as tags.
            created_at = all_tags.get(CREATED_AT_TAG, "")
            sandboxes.append(
                {
                    "sandbox_id": sandbox.object_id,
                    "name": all_tags.get(NAME_TAG),
                    "tags": {key: value for key, value in all_tags.items() if not key.startswith(RESERVED_PREFIX)},
                    "created_at": float(created_at) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", created_at) else None,
                }
            )
        return {"sandboxes": sandboxes, "truncated": truncated}

    def terminate(self, sandbox_id: str) -> dict[str, Any]:
        try:
            modal.Sandbox.from_id(sandbox_id).terminate()
        except modal.exception.NotFoundError:
            return {"terminated": False}  # already gone is what we wanted
        return {"terminated": True}


# --- HTTP ----------------------------------------------------------------------------------------------------------


def _print_log(record: dict[str, Any]) -> None:
    print(json.dumps(record, separators=(",", ":")), flush=True)


def handle_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    backend: ModalBackend,
    environ: Mapping[str, str],
    now: float,
    log: Log = _print_log,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """One request → (status, JSON body, extra headers). `headers` must have lower-case names."""
    started = time.monotonic()
    route = path[1:] if path.startswith("/") else path
    secret = environ.get("LAUNCHER_SECRET", "")
    secrets: list[str] = [secret] if secret else []
    # The path is caller data: only a known route is logged.
    record: dict[str, Any] = {"level": "info", "msg": "launcher request", "route": route if route in ROUTES else None}

    def write_log(**fields: Any) -> None:
        record.update(fields, ms=round((time.monotonic() - started) * 1000))
        log({key: value for key, value in record.items() if value is not None})

    def scrub(text: str) -> str:
        for value in sorted((s for s in secrets if len(s) >= MIN_SCRUB_LENGTH), key=len, reverse=True):
            text = text.replace(value, "[redacted]")
        return text

    try:
        if method != "POST":
            raise LauncherError("method_not_allowed")
        if route not in ROUTES:
            raise LauncherError("not_found")
        if len(body) > PROTOCOL["maxBodyBytes"]:
            raise LauncherError("too_large")
        if not secret:
            raise LauncherError("launcher_misconfigured")
        check_signature(headers, route, body, secret, now)
        request = parse_body(route, body)
        if route == "start":
            secrets.extend(request["env"].values())
            record.update(name=request["name"], app=request["app"])
        if route in ("image", "start") and not image_allowed(request["image"], allowed_image_patterns(environ)):
            raise LauncherError("image_not_allowed")
        try:
            if route == "app":
                result = backend.ensure_app(request["name"], request.get("environment"))
            elif route == "image":
                result = backend.ensure_image(request["app"], request["image"])
            elif route == "start":
                result = backend.start(request)
            elif route == "list":
                result = backend.list(request["app"], request["tags"])
            else:
                record["sandbox_id"] = request["sandbox_id"]
                result = backend.terminate(request["sandbox_id"])
        except LauncherError:
            raise
        except Exception as error:  # noqa: BLE001 - every Modal failure becomes a typed answer
            raise _modal_failure(error, scrub) from error
        write_log(status=200, sandbox_id=result.get("sandbox_id", record.get("sandbox_id")))
        return 200, result, {}
    except LauncherError as error:
        write_log(
            level="warn" if error.status < 500 else "error",
            status=error.status,
            reason=error.reason,
            field=error.field,
            detail=scrub(error.detail) if error.detail else None,
        )
        extra = {"retry-after": str(error.retry_after)} if error.retry_after is not None else {}
        return error.status, error.body(), extra


def make_asgi_app(
    backend: ModalBackend,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], float] = time.time,
    log: Log = _print_log,
) -> Callable[..., Any]:
    """A bare ASGI app (no web framework: nothing to install, a faster cold start). Modal SDK calls block, so each
    request runs in a worker thread and the event loop stays free for concurrent requests."""

    async def asgi(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        while len(body) <= PROTOCOL["maxBodyBytes"]:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        status, payload, extra = await asyncio.to_thread(
            handle_request,
            scope["method"],
            scope["path"],
            headers,
            bytes(body),
            backend=backend,
            environ=environ,
            now=clock(),
            log=log,
        )
        data = json.dumps(payload).encode("utf-8")
        response_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        response_headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": data})

    return asgi


# --- the Modal app -------------------------------------------------------------------------------------------------


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", version)[:3])


if _version_tuple(getattr(modal, "__version__", "0")) < MIN_MODAL_VERSION:
    raise RuntimeError("the launcher needs the Modal SDK 1.4.3 or later (pip install -U modal)")

app = modal.App(APP_NAME)

web_image = modal.Image.debian_slim(python_version="3.12").add_local_file(
    Path(__file__).with_name(PROTOCOL_FILE), f"/root/{PROTOCOL_FILE}"
)


@app.function(
    image=web_image,
    secrets=[modal.Secret.from_name(SECRET_NAME)],
    min_containers=MIN_CONTAINERS,
    # Stay warm this long after the last request: a burst of jobs rarely meets a cold start.
    scaledown_window=300,
    timeout=120,
)
@modal.concurrent(max_inputs=MAX_CONCURRENT_REQUESTS)
@modal.asgi_app(requires_proxy_auth=True)
def web() -> Callable[..., Any]:
    return make_asgi_app(ModalBackend())
