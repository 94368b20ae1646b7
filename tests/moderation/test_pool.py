"""The worker-process pool: the same verdicts as in-process, several images at once, and a dead
worker never loses an image (real models in spawned processes)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from rtcsnap_moderation import Moderator, parse_rules
from rtcsnap_moderation.pool import ModerationPool

from tests.moderation.helpers import encode, frame, render

RULES = {"detectors": ["text"], "text": [{"name": "weapons", "keywords": ["buy guns"]}]}


@pytest.fixture(scope="module")
def pool() -> Iterator[ModerationPool]:
    with ModerationPool(parse_rules(RULES), workers=2) as p:
        p.warm_up()
        yield p


def workers() -> list[psutil.Process]:
    return [c for c in psutil.Process().children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]


def test_pool_verdicts_are_the_in_process_verdicts(pool: ModerationPool, latin_font: str) -> None:
    flagged = render(["BUY GUNS HERE"], latin_font)
    benign = encode(frame())
    local = Moderator(RULES)
    with ThreadPoolExecutor(4) as threads:
        got = list(threads.map(lambda b: pool.moderate(b, "app1"), [flagged, benign, flagged, benign]))
    assert [v.fired for v in got] == [("text.weapons",), (), ("text.weapons",), ()]
    assert got[0].fired == local.moderate(flagged, "app1").fired and got[0].status == "ok"
    assert len(workers()) == 2, "two spawned workers, each with its own models"


def test_a_dead_worker_costs_a_retry_not_the_image(pool: ModerationPool, latin_font: str) -> None:
    before = pool.restarts
    victims = workers()
    for proc in victims:
        proc.kill()
    psutil.wait_procs(victims, timeout=30)
    verdict = pool.moderate(render(["BUY GUNS HERE"], latin_font), "app1")
    assert verdict.status == "ok" and verdict.fired == ("text.weapons",), verdict
    assert pool.restarts == before + 1
    assert {p.pid for p in workers()}.isdisjoint(p.pid for p in victims)


def test_workers_are_bounded() -> None:
    with pytest.raises(ValueError, match="workers: must be between 1 and 64"):
        ModerationPool(parse_rules(RULES), workers=0)


def test_background_workers_run_at_lower_priority() -> None:
    """Beside a receiver the models must not take the CPU from acknowledging callbacks."""
    from rtcsnap_moderation.pool import BACKGROUND

    before = {p.pid for p in workers()}  # the module's pool may be running too
    with ModerationPool(parse_rules(RULES), workers=1, nice=BACKGROUND) as niced:
        niced.warm_up()
        (proc,) = [p for p in workers() if p.pid not in before]
        assert proc.nice() == min(19, psutil.Process().nice() + BACKGROUND)
    with pytest.raises(ValueError, match="nice: must be between 0 and 19"):
        ModerationPool(parse_rules(RULES), nice=20)
