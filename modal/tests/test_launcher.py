"""The launcher's behaviour beyond the shared cases: what it asks Modal for, the name-collision path, the HMAC check
against replays, Modal failures as typed answers, secrets kept out of logs and answers, and the app definition."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import unittest
from pathlib import Path
from typing import Any

from . import fake_modal
from .support import BASE, JIT, NOW, SECRET, Harness, definition_state, encode, launcher, sign, signed_headers

OFFICIAL = BASE["start"]["image"]


class Signature(unittest.TestCase):
    def test_a_good_signature_is_accepted(self) -> None:
        status, body, _ = Harness().start()
        self.assertEqual(status, 200, body)

    def test_missing_headers_are_refused(self) -> None:
        harness = Harness()
        raw = encode(BASE["start"])
        for headers in ({}, {"x-launcher-timestamp": str(NOW)}, {"x-launcher-signature": sign(SECRET, str(NOW), "start", raw)}):
            status, body, _ = harness.call("start", raw, headers=headers)
            self.assertEqual((status, body["reason"]), (401, "missing_signature"))
        self.assertEqual(harness.state.sandboxes, {})

    def test_a_signature_made_with_another_secret_is_refused(self) -> None:
        harness = Harness()
        raw = encode(BASE["start"])
        headers = signed_headers("start", raw, secret="not-the-launcher-secret")
        status, body, _ = harness.call("start", raw, headers=headers)
        self.assertEqual((status, body["reason"]), (401, "bad_signature"))
        self.assertEqual(harness.state.sandboxes, {})

    def test_a_captured_signature_does_not_cover_another_body(self) -> None:
        harness = Harness()
        captured = signed_headers("start", encode(BASE["start"]))
        tampered = encode({**BASE["start"], "image": "ghcr.io/actions/actions-runner:2.300.0", "cpu": 64})
        status, body, _ = harness.call("start", tampered, headers=captured)
        self.assertEqual((status, body["reason"]), (401, "bad_signature"))
        # Nor another route: the route is part of the signed message.
        status, body, _ = harness.call("terminate", encode(BASE["start"]), headers=captured)
        self.assertEqual((status, body["reason"]), (401, "bad_signature"))

    def test_a_replay_after_the_window_is_refused(self) -> None:
        harness = Harness()
        raw = encode(BASE["start"])
        captured = signed_headers("start", raw, now=NOW)
        status, _, _ = harness.call("start", raw, headers=captured, now=NOW)
        self.assertEqual(status, 200)
        status, body, _ = harness.call("start", raw, headers=captured, now=NOW + 301)
        self.assertEqual((status, body["reason"]), (401, "stale_timestamp"))

    def test_a_replay_inside_the_window_changes_nothing(self) -> None:
        harness = Harness()
        raw = encode(BASE["start"])
        captured = signed_headers("start", raw)
        first = harness.call("start", raw, headers=captured)[1]
        second = harness.call("start", raw, headers=captured, now=NOW + 200)[1]
        self.assertEqual(second, {"sandbox_id": first["sandbox_id"], "already_started": True})
        self.assertEqual(len(harness.state.sandboxes), 1)

    def test_without_a_configured_secret_nothing_is_accepted(self) -> None:
        harness = Harness(environ={})
        # Not even a request signed with an empty key.
        raw = encode(BASE["start"])
        status, body, _ = harness.call("start", raw, headers=signed_headers("start", raw, secret=""))
        self.assertEqual((status, body["reason"]), (500, "launcher_misconfigured"))


class Start(unittest.TestCase):
    def test_sizing_reaches_modal(self) -> None:
        harness = Harness()
        status, body, _ = harness.start(gpu="H100:2", regions=["us-east", "eu-west"], cpu=8, memory_mib=32768)
        self.assertEqual(status, 200)
        record = harness.state.sandboxes[body["sandbox_id"]]
        self.assertEqual(
            (record.gpu, record.region, record.cpu, record.memory), ("H100:2", ["us-east", "eu-west"], 8.0, 32768)
        )

    def test_what_modal_is_asked_for(self) -> None:
        harness = Harness()
        status, body, _ = harness.start(gpu="A10G")
        self.assertEqual(status, 200)
        self.assertEqual(body["already_started"], False)
        record = harness.state.sandboxes[body["sandbox_id"]]
        self.assertEqual(record.command, ["/home/runner/run.sh"])
        self.assertEqual(record.name, "aom-1-runner")
        self.assertEqual(record.image, OFFICIAL)
        self.assertEqual(record.env, BASE["start"]["env"])
        self.assertEqual((record.cpu, record.memory, record.timeout, record.gpu), (2.0, 4096, 3600, "A10G"))
        self.assertIsInstance(record.memory, int)
        self.assertIsNone(record.region)
        # The caller's tags, plus the two the launcher keeps because the SDK cannot list name or creation time.
        self.assertEqual(
            record.tags,
            {**BASE["start"]["tags"], "launcher.name": "aom-1-runner", "launcher.created-at": f"{NOW + 0.25:.3f}"},
        )
        self.assertEqual(harness.state.lookups, [(None, "actions-on-modal")])

    def test_apps_and_images_are_cached_per_container(self) -> None:
        harness = Harness()
        for index in range(3):
            self.assertEqual(harness.start(name=f"runner-{index}")[0], 200)
        harness.start(name="other-image", image="ghcr.io/actions/actions-runner:2.331.0")
        self.assertEqual(harness.state.registry_images, [OFFICIAL, "ghcr.io/actions/actions-runner:2.331.0"])
        self.assertEqual(harness.state.lookups, [(None, "actions-on-modal")])

    def test_an_app_in_an_environment(self) -> None:
        harness = Harness()
        status, body, _ = harness.call("app", {"name": "aom", "environment": "ci"})
        self.assertEqual((status, body), (200, {"app": "ci/aom"}))
        status, body, _ = harness.start(app="ci/aom")
        self.assertEqual(status, 200)
        self.assertEqual(harness.state.lookups, [("ci", "aom")])
        # The collision path looks the name up in the same environment.
        status, again, _ = harness.start(app="ci/aom")
        self.assertEqual(again, {"sandbox_id": body["sandbox_id"], "already_started": True})

    def test_without_env_no_secret_is_made(self) -> None:
        harness = Harness()
        status, body, _ = harness.start(env={})
        self.assertEqual(status, 200)
        self.assertEqual(harness.state.sandboxes[body["sandbox_id"]].env, {})

    def test_a_taken_name_returns_the_running_sandbox(self) -> None:
        harness = Harness()
        first = harness.start()[1]
        status, second, _ = harness.start()
        self.assertEqual(status, 200)
        self.assertEqual(second, {"sandbox_id": first["sandbox_id"], "already_started": True})
        self.assertEqual(len(harness.state.sandboxes), 1)

    def test_a_name_freed_between_the_two_calls_asks_for_a_retry(self) -> None:
        harness = Harness()
        harness.state.fail("Sandbox.create", fake_modal.exception.AlreadyExistsError("taken"))
        status, body, headers = harness.start()
        self.assertEqual((status, body["reason"], headers), (409, "name_conflict", {"retry-after": "5"}))

    def test_a_finished_sandbox_frees_its_name(self) -> None:
        harness = Harness()
        first = harness.start()[1]
        harness.call("terminate", {"sandbox_id": first["sandbox_id"]})
        second = harness.start()[1]
        self.assertNotEqual(second["sandbox_id"], first["sandbox_id"])
        self.assertEqual(second["already_started"], False)


class AllowList(unittest.TestCase):
    def test_by_default_only_the_official_runner_image(self) -> None:
        harness = Harness()
        self.assertEqual(harness.call("image", BASE["image"])[:2], (200, {"image": OFFICIAL}))
        status, body, _ = harness.call("image", {**BASE["image"], "image": "docker.io/library/ubuntu:24.04"})
        self.assertEqual((status, body["reason"]), (403, "image_not_allowed"))
        status, body, _ = harness.start(image="docker.io/library/ubuntu:24.04")
        self.assertEqual((status, body["reason"]), (403, "image_not_allowed"))
        self.assertEqual(harness.state.sandboxes, {})

    def test_patterns_from_the_environment(self) -> None:
        harness = Harness({"LAUNCHER_SECRET": SECRET, "LAUNCHER_ALLOWED_IMAGES": " docker.io/library/ubuntu:* ,, "})
        self.assertEqual(harness.start(image="docker.io/library/ubuntu:24.04")[0], 200)
        # Configured patterns replace the default.
        self.assertEqual(harness.start(name="official", image=OFFICIAL)[1]["reason"], "image_not_allowed")

    def test_every_start_is_checked_even_for_a_handle_from_image(self) -> None:
        harness = Harness()
        self.assertEqual(harness.call("image", BASE["image"])[0], 200)
        harness.environ["LAUNCHER_ALLOWED_IMAGES"] = "registry.example.com/*"
        self.assertEqual(harness.start()[1]["reason"], "image_not_allowed")


class ModalFailures(unittest.TestCase):
    def check(self, error: BaseException, status: int, reason: str, retry_after: str | None) -> None:
        harness = Harness()
        harness.state.fail("Sandbox.create", error)
        got_status, body, headers = harness.start()
        self.assertEqual((got_status, body["reason"]), (status, reason))
        self.assertEqual(headers.get("retry-after"), retry_after)
        self.assertEqual(set(body), {"error", "reason"})

    def test_capacity_asks_for_a_later_retry(self) -> None:
        self.check(fake_modal.exception.ResourceExhaustedError("no capacity"), 429, "modal_capacity", "30")

    def test_transient_failures_are_503(self) -> None:
        for name in ("InternalError", "ServiceError", "TimeoutError", "ConnectionError"):
            with self.subTest(name):
                self.check(getattr(fake_modal.exception, name)("blip"), 503, "modal_unavailable", "5")

    def test_refusals_are_permanent(self) -> None:
        self.check(fake_modal.exception.AuthError("token revoked"), 502, "modal_denied", None)
        self.check(fake_modal.exception.PermissionDeniedError("no"), 502, "modal_denied", None)
        self.check(fake_modal.exception.InvalidError("bad gpu"), 422, "modal_rejected", None)
        self.check(fake_modal.exception.ImageBuildError("no such tag"), 422, "image_build_failed", None)

    def test_anything_else_is_an_internal_error(self) -> None:
        self.check(RuntimeError("bug"), 500, "internal", None)

    def test_app_lookup_failures_too(self) -> None:
        harness = Harness()
        harness.state.fail("App.lookup", fake_modal.exception.NotFoundError("no environment ci"))
        status, body, _ = harness.call("app", {"name": "aom", "environment": "ci"})
        self.assertEqual((status, body["reason"]), (422, "modal_rejected"))


class ListAndTerminate(unittest.TestCase):
    def test_list_reports_name_creation_time_and_the_callers_tags(self) -> None:
        harness = Harness()
        started = harness.start()[1]
        harness.start(name="other", tags={"runner-name": "other"})
        status, body, _ = harness.call("list", BASE["list"])
        self.assertEqual(status, 200)
        self.assertEqual(
            body,
            {
                "sandboxes": [
                    {
                        "sandbox_id": started["sandbox_id"],
                        "name": "aom-1-runner",
                        "tags": BASE["start"]["tags"],
                        "created_at": NOW + 0.25,
                    }
                ],
                "truncated": False,
            },
        )
        self.assertEqual(len(harness.call("list", {**BASE["list"], "tags": {}})[1]["sandboxes"]), 2)

    def test_sandboxes_the_launcher_did_not_start_have_no_name_or_time(self) -> None:
        harness = Harness()
        harness.call("app", {"name": "actions-on-modal"})
        app = harness.state.apps[(None, "actions-on-modal")]
        fake_modal.Sandbox.create("sleep", "1", app=app, tags={"runner-name": "aom-1-runner"})
        entry = harness.call("list", BASE["list"])[1]["sandboxes"][0]
        self.assertEqual((entry["name"], entry["created_at"]), (None, None))

    def test_a_sandbox_that_ends_while_listing_is_skipped(self) -> None:
        harness = Harness()
        harness.start()
        harness.state.fail("Sandbox.get_tags", fake_modal.exception.NotFoundError("gone"))
        self.assertEqual(harness.call("list", BASE["list"])[1]["sandboxes"], [])

    def test_list_is_bounded(self) -> None:
        harness = Harness()
        original = launcher.LIMITS["listMax"]
        launcher.LIMITS["listMax"] = 2
        try:
            for index in range(3):
                harness.start(name=f"runner-{index}", tags={})
            body = harness.call("list", {**BASE["list"], "tags": {}})[1]
        finally:
            launcher.LIMITS["listMax"] = original
        self.assertEqual((len(body["sandboxes"]), body["truncated"]), (2, True))

    def test_terminate_ends_a_running_sandbox_and_accepts_a_gone_one(self) -> None:
        harness = Harness()
        sandbox_id = harness.start()[1]["sandbox_id"]
        self.assertEqual(harness.call("terminate", {"sandbox_id": sandbox_id})[:2], (200, {"terminated": True}))
        self.assertFalse(harness.state.sandboxes[sandbox_id].running)
        self.assertEqual(harness.call("terminate", {"sandbox_id": "sb-unknown"})[:2], (200, {"terminated": False}))
        harness.state.fail("Sandbox.terminate", fake_modal.exception.NotFoundError("gone"))
        self.assertEqual(harness.call("terminate", {"sandbox_id": sandbox_id})[:2], (200, {"terminated": False}))


class Secrets(unittest.TestCase):
    """The JIT config must reach Modal's secret and nothing else: no log line, no answer, no stdout."""

    def test_env_values_never_reach_logs_or_answers(self) -> None:
        harness = Harness()
        leaky = fake_modal.exception.InvalidError(f"cannot use env value {JIT} with secret {SECRET}")
        answers: list[Any] = []
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stdout):
            answers.append(harness.start())  # success
            answers.append(harness.start())  # collision
            harness.state.fail("Sandbox.create", leaky)
            answers.append(harness.start(name="fails"))  # Modal's text quotes the secret
            harness.state.fail("Sandbox.create", RuntimeError(JIT))
            answers.append(harness.start(name="crashes"))
            answers.append(harness.start(tags={"leak": JIT}))  # leak check
            answers.append(harness.start(env={"ACTIONS_RUNNER_INPUT_JITCONFIG": JIT, "bad key": JIT}))
            answers.append(harness.call("start", {**BASE["start"], JIT: 1}))  # the secret as an unknown field
            answers.append(harness.call("start", encode(BASE["start"]), headers={}))
        text = harness.log_text() + json.dumps(answers) + stdout.getvalue()
        self.assertNotIn(JIT, text)
        self.assertNotIn(SECRET, text)
        # The failures were still logged usefully.
        details = [record.get("detail", "") for record in harness.logs]
        self.assertIn("InvalidError: cannot use env value [redacted] with secret [redacted]", details)
        self.assertIn("RuntimeError: [redacted]", details)

    def test_default_log_writes_one_json_object_per_line_to_stdout(self) -> None:
        harness = Harness()
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            raw = encode(BASE["start"])
            launcher.handle_request(
                "POST", "/start", signed_headers("start", raw), raw, backend=harness.backend, environ=harness.environ, now=NOW
            )
        lines = stdout.getvalue().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertEqual(json.loads(lines[0])["route"], "start")
        self.assertNotIn(JIT, lines[0])


class AppDefinition(unittest.TestCase):
    def decorator(self, kind: str) -> dict[str, Any]:
        found = [options for name, options in definition_state.decorators if name == kind]
        self.assertEqual(len(found), 1, kind)
        return found[0]

    def test_the_endpoint_requires_modal_proxy_auth(self) -> None:
        self.assertIs(self.decorator("asgi_app")["requires_proxy_auth"], True)

    def test_function_settings(self) -> None:
        function = self.decorator("function")
        self.assertEqual(function["min_containers"], 0)
        self.assertEqual([secret.name for secret in function["secrets"]], ["actions-on-modal-launcher"])
        self.assertGreaterEqual(self.decorator("concurrent")["max_inputs"], 2)

    def test_the_protocol_table_ships_with_the_app(self) -> None:
        [(local, remote)] = definition_state.local_files
        self.assertTrue(Path(local).is_file())
        self.assertEqual(remote, "/root/launcher_protocol.json")

    def test_an_old_modal_sdk_is_refused_at_deploy(self) -> None:
        self.assertEqual(launcher._version_tuple("1.4.2") < launcher.MIN_MODAL_VERSION, True)
        self.assertEqual(launcher._version_tuple("1.4.3") < launcher.MIN_MODAL_VERSION, False)
        self.assertEqual(launcher._version_tuple("1.10.0.dev3") < launcher.MIN_MODAL_VERSION, False)


class Asgi(unittest.TestCase):
    """The ASGI glue Modal serves, driven the way an ASGI server drives it."""

    def run_app(self, harness: Harness, scope: dict[str, Any], inbox: list[dict[str, Any]]) -> list[dict[str, Any]]:
        app = launcher.make_asgi_app(harness.backend, environ=harness.environ, clock=lambda: NOW, log=harness.logs.append)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return inbox.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run(app(scope, receive, send))
        return sent

    def post(self, harness: Harness, path: str, chunks: list[bytes], headers: dict[str, str]):
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        }
        inbox = [
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
            for index, chunk in enumerate(chunks)
        ]
        start, body = self.run_app(harness, scope, inbox)
        return start["status"], dict(start["headers"]), json.loads(body["body"])

    def test_a_request_in_several_chunks(self) -> None:
        raw = encode(BASE["start"])
        # Header names arrive in any case; the launcher compares them lower-cased.
        headers = {"X-Launcher-Timestamp": str(NOW), "X-Launcher-Signature": sign(SECRET, str(NOW), "start", raw)}
        status, response_headers, body = self.post(Harness(), "/start", [raw[:10], raw[10:]], headers)
        self.assertEqual(status, 200, body)
        self.assertEqual(response_headers[b"content-type"], b"application/json")
        self.assertTrue(body["sandbox_id"].startswith("sb-"))

    def test_retry_after_travels_as_a_header(self) -> None:
        harness = Harness()
        harness.state.fail("Sandbox.create", fake_modal.exception.ResourceExhaustedError("full"))
        raw = encode(BASE["start"])
        status, headers, body = self.post(harness, "/start", [raw], signed_headers("start", raw))
        self.assertEqual((status, body["reason"], headers[b"retry-after"]), (429, "modal_capacity", b"30"))

    def test_an_oversized_body_is_not_read_to_the_end(self) -> None:
        chunk = b"x" * 40_000
        inbox_left = [chunk] * 4
        status, _, body = self.post(Harness(), "/start", inbox_left, {})
        self.assertEqual((status, body["reason"]), (413, "too_large"))

    def test_a_client_that_goes_away_gets_no_answer(self) -> None:
        scope = {"type": "http", "method": "POST", "path": "/start", "headers": []}
        self.assertEqual(self.run_app(Harness(), scope, [{"type": "http.disconnect"}]), [])

    def test_lifespan(self) -> None:
        inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent = self.run_app(Harness(), {"type": "lifespan"}, inbox)
        self.assertEqual([message["type"] for message in sent], ["lifespan.startup.complete", "lifespan.shutdown.complete"])


if __name__ == "__main__":
    unittest.main()
