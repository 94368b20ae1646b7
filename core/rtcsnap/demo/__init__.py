"""The offline demo: the whole service on loopback, ending in pictures.

``python3 run.py demo`` (or ``rtcsnap demo``, ``python -m rtcsnap.demo``) starts a local storage
server, the emulator with a demo room (two cameras, one screen share) and the callback receiver,
then does what a user does — verify the keys, start a task, watch it, change its interval, stop
it, reconcile, download — and leaves ``./rtcsnap-demo/`` with the images, ``contact-sheet.png``
and ``index.html``. Needs ``rtcsnap[testing]`` (the local storage servers) and the
``rtcsnap-*`` provider of the storage kind chosen.
"""

from __future__ import annotations

from rtcsnap.demo.flow import STAGES, DemoInterrupted, DemoOptions, DemoResult, run_demo
from rtcsnap.demo.stages import DemoFailed

__all__ = ["STAGES", "DemoFailed", "DemoInterrupted", "DemoOptions", "DemoResult", "run_demo"]
