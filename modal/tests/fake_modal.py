"""A stand-in for the `modal` package, which cannot be installed here: the few classes the launcher uses, with the
behaviour the launcher relies on (unique running names per app, tag filters, NotFound for unknown ids), in-memory
state the tests inspect, and failure injection. Signatures follow the Modal SDK 1.5 reference.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any


class Error(Exception):
    pass


EXCEPTION_NAMES = [
    "AlreadyExistsError",
    "NotFoundError",
    "InvalidError",
    "AuthError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "InternalError",
    "ServiceError",
    "TimeoutError",
    "ConnectionError",
    "ImageBuildError",
]

exception = types.ModuleType("modal.exception")
exception.Error = Error
for _name in EXCEPTION_NAMES:
    setattr(exception, _name, type(_name, (Error,), {}))


@dataclass
class SandboxRecord:
    id: str
    app_id: str
    name: str | None
    tags: dict[str, str]
    image: str
    command: list[str]
    env: dict[str, str]
    cpu: float | None
    memory: int | None
    timeout: int
    gpu: str | None
    region: str | list[str] | None = None
    running: bool = True


@dataclass
class State:
    apps: dict[tuple[str | None, str], Any] = field(default_factory=dict)
    sandboxes: dict[str, SandboxRecord] = field(default_factory=dict)
    registry_images: list[str] = field(default_factory=list)
    lookups: list[tuple[str | None, str]] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    decorators: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    local_files: list[tuple[str, str]] = field(default_factory=list)
    counter: int = 0

    def fail(self, operation: str, error: BaseException, count: int = 1) -> None:
        self.failures.setdefault(operation, []).extend([error] * count)

    def maybe_fail(self, operation: str) -> None:
        pending = self.failures.get(operation)
        if pending:
            raise pending.pop(0)

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-fake{self.counter:018d}"


STATE = State()


def reset() -> State:
    global STATE
    STATE = State()
    return STATE


class Image:
    def __init__(self, tag: str):
        self.tag = tag

    @staticmethod
    def from_registry(tag: str, secret: Any = None, **kwargs: Any) -> Image:
        STATE.registry_images.append(tag)
        return Image(tag)

    @staticmethod
    def debian_slim(python_version: str | None = None) -> Image:
        return Image(f"debian_slim:{python_version}")

    def add_local_file(self, local_path: Any, remote_path: str, *, copy: bool = False) -> Image:
        STATE.local_files.append((str(local_path), remote_path))
        return self


class Secret:
    def __init__(self, env: dict[str, str] | None = None, name: str | None = None):
        self.env = env or {}
        self.name = name

    @staticmethod
    def from_dict(env_dict: dict[str, str]) -> Secret:
        return Secret(env=dict(env_dict))

    @staticmethod
    def from_name(name: str, **kwargs: Any) -> Secret:
        return Secret(name=name)


class App:
    def __init__(self, name: str | None = None, **kwargs: Any):
        self.name = name
        self.app_id: str | None = None
        self.environment: str | None = None

    @staticmethod
    def lookup(name: str, *, client: Any = None, environment_name: str | None = None, create_if_missing: bool = False):
        STATE.lookups.append((environment_name, name))
        STATE.maybe_fail("App.lookup")
        key = (environment_name, name)
        if key not in STATE.apps:
            if not create_if_missing:
                raise exception.NotFoundError(f"App {name} not found")
            app = App(name)
            app.app_id = STATE.next_id("ap")
            app.environment = environment_name
            STATE.apps[key] = app
        return STATE.apps[key]

    def function(self, **kwargs: Any):
        STATE.decorators.append(("function", kwargs))
        return lambda fn: fn


def concurrent(*, max_inputs: int, target_inputs: int | None = None):
    STATE.decorators.append(("concurrent", {"max_inputs": max_inputs}))
    return lambda fn: fn


def asgi_app(*, label: str | None = None, custom_domains: Any = None, requires_proxy_auth: bool = False):
    STATE.decorators.append(("asgi_app", {"label": label, "requires_proxy_auth": requires_proxy_auth}))
    return lambda fn: fn


class Sandbox:
    def __init__(self, sandbox_id: str):
        self.object_id = sandbox_id

    @staticmethod
    def create(
        *args: str,
        app: App | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        image: Image | None = None,
        secrets: list[Secret] | None = None,
        timeout: int = 300,
        gpu: str | None = None,
        region: str | list[str] | None = None,
        cpu: float | None = None,
        memory: int | None = None,
        **kwargs: Any,
    ) -> Sandbox:
        STATE.maybe_fail("Sandbox.create")
        if app is None or app.app_id is None:
            raise exception.InvalidError("App has not been looked up")
        if name is not None and any(
            record.running and record.app_id == app.app_id and record.name == name
            for record in STATE.sandboxes.values()
        ):
            raise exception.AlreadyExistsError(f"Sandbox with name '{name}' already exists")
        env: dict[str, str] = {}
        for secret in secrets or []:
            env.update(secret.env)
        record = SandboxRecord(
            id=STATE.next_id("sb"),
            app_id=app.app_id,
            name=name,
            tags=dict(tags or {}),
            image=image.tag if image else "",
            command=list(args),
            env=env,
            cpu=cpu,
            memory=memory,
            timeout=timeout,
            gpu=gpu,
            region=region,
        )
        STATE.sandboxes[record.id] = record
        return Sandbox(record.id)

    @staticmethod
    def from_name(app_name: str, name: str, *, environment_name: str | None = None, client: Any = None) -> Sandbox:
        STATE.maybe_fail("Sandbox.from_name")
        app = STATE.apps.get((environment_name, app_name))
        for record in STATE.sandboxes.values():
            if app is not None and record.running and record.app_id == app.app_id and record.name == name:
                return Sandbox(record.id)
        raise exception.NotFoundError(f"No running sandbox named {name}")

    @staticmethod
    def from_id(sandbox_id: str, client: Any = None) -> Sandbox:
        STATE.maybe_fail("Sandbox.from_id")
        if sandbox_id not in STATE.sandboxes:
            raise exception.NotFoundError(f"Sandbox {sandbox_id} not found")
        return Sandbox(sandbox_id)

    @staticmethod
    def list(*, app_id: str | None = None, tags: dict[str, str] | None = None, client: Any = None):
        STATE.maybe_fail("Sandbox.list")
        matching = [
            record
            for record in STATE.sandboxes.values()
            if record.running
            and (app_id is None or record.app_id == app_id)
            and all(record.tags.get(key) == value for key, value in (tags or {}).items())
        ]
        for record in reversed(matching):  # newest first, as Modal lists them
            yield Sandbox(record.id)

    def get_tags(self) -> dict[str, str]:
        STATE.maybe_fail("Sandbox.get_tags")
        return dict(STATE.sandboxes[self.object_id].tags)

    def terminate(self, *, wait: bool = False) -> None:
        STATE.maybe_fail("Sandbox.terminate")
        STATE.sandboxes[self.object_id].running = False


def build_module() -> types.ModuleType:
    """The fake as a module object, for `sys.modules["modal"]`."""
    module = types.ModuleType("modal")
    module.__version__ = "1.5.4"
    module.exception = exception
    module.Image = Image
    module.Secret = Secret
    module.App = App
    module.Sandbox = Sandbox
    module.concurrent = concurrent
    module.asgi_app = asgi_app
    return module
