"""The cases in launcher_cases.json, which the TypeScript emulator answers too (protocol-cases.test.ts)."""

from __future__ import annotations

import base64
import json
import unittest
from typing import Any

from .support import BASE, CASES, NOW, SECRET, Harness, launcher, sign


def case_body(case: dict[str, Any]) -> bytes:
    if "rawBody" in case:
        return case["rawBody"].encode("utf-8")
    if "rawBodyBase64" in case:
        return base64.b64decode(case["rawBodyBase64"])
    if "rawBodyRepeat" in case:
        return (case["rawBodyRepeat"]["text"] * case["rawBodyRepeat"]["times"]).encode("utf-8")
    body = {**BASE[case["route"]], **case.get("merge", {})}
    for name in case.get("remove", []):
        body.pop(name, None)
    return json.dumps(body).encode("utf-8")


def case_headers(case: dict[str, Any], body: bytes) -> dict[str, str]:
    options = case.get("sign", {})
    if options.get("omit"):
        return {}
    timestamp = options.get("timestamp", str(NOW + options.get("timestampOffset", 0)))
    signature = options.get("signature") or sign(
        options.get("secret", SECRET), timestamp, options.get("route", case["route"]), body
    )
    return {"x-launcher-timestamp": timestamp, "x-launcher-signature": signature}


class SharedCases(unittest.TestCase):
    def test_every_case(self) -> None:
        for case in CASES["cases"]:
            with self.subTest(case["name"]):
                environ = {"LAUNCHER_ALLOWED_IMAGES": CASES["allowedImages"]}
                if not case.get("secretUnset"):
                    environ["LAUNCHER_SECRET"] = SECRET
                harness = Harness(environ)
                body = case_body(case)
                status, payload, _ = launcher.handle_request(
                    case.get("method", "POST"),
                    case.get("path", f"/{case['route']}"),
                    case_headers(case, body),
                    body,
                    backend=harness.backend,
                    environ=harness.environ,
                    now=NOW,
                    log=harness.logs.append,
                )
                self.assertEqual(status, case["status"], payload)
                if status != 200:
                    self.assertEqual(payload.get("reason"), case["reason"])
                    self.assertEqual(payload.get("field"), case.get("field"))
                    self.assertNotIn(CASES["jit"], json.dumps(payload))
                self.assertNotIn(CASES["jit"], harness.log_text())

    def test_signature_vectors(self) -> None:
        for vector in CASES["signatureVectors"]:
            with self.subTest(vector["route"]):
                body = vector["body"].encode("utf-8")
                self.assertEqual(
                    launcher.signature_for(vector["secret"], vector["timestamp"], vector["route"], body),
                    vector["signature"],
                )

    def test_the_table_and_the_code_agree_on_reasons(self) -> None:
        table = CASES["cases"]
        used = {case["reason"] for case in table if "reason" in case}
        self.assertLessEqual(used, set(launcher.REASONS))
        for reason, spec in launcher.REASONS.items():
            error = launcher.LauncherError(reason)
            self.assertEqual(error.status, spec["status"])
            self.assertEqual(error.body()["reason"], reason)
            # The table keeps statuses honest: only capacity (429), unavailability (503), a name about to be freed
            # (409) and the launcher's own crash (500 internal) are worth retrying.
            self.assertEqual(spec["retryable"], spec["status"] in (409, 429, 503) or reason == "internal", reason)


if __name__ == "__main__":
    unittest.main()
