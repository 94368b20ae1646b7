"""ONNX Runtime as the detectors load it: with Microsoft's telemetry off.

Why: the official onnxruntime wheels from 1.2x on Linux ship 1DS telemetry (microsoft/onnxruntime
PR #27379: a process event, session and model events, an uploader, a persistent device id under
``~/.cache/Microsoft/DeveloperTools`` and a ``$TMPDIR/.ses`` file). A moderation plugin judging
evidence must not report on it to a third party, nor leave files the user did not ask for.
``ORT_DISABLE_TELEMETRY=1``, set before the runtime initialises, is that PR's full opt-out on
non-Windows platforms (no uploader, events, device id or offline cache); the decision is latched
for the process, so every import of onnxruntime here goes through `without_telemetry` first. A
user who wants telemetry on sets ``ORT_DISABLE_TELEMETRY=0`` themselves (`setdefault`).
"""

from __future__ import annotations

import os

ENV = "ORT_DISABLE_TELEMETRY"


def without_telemetry() -> None:
    """Turn ONNX Runtime's telemetry off for this process and the model processes it spawns
    (they inherit the environment), unless the user set `ENV` already."""
    os.environ.setdefault(ENV, "1")


__all__ = ["ENV", "without_telemetry"]
