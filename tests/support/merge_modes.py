"""Both ways a bundle merge runs its row checks (`respine_desktop.meanwhile`), for the merge's
refusal tests: ``here`` (in the merging process, before the staging: the console and the test
workers, which run several threads) and ``forked`` (in a child process while the merging process
stages the answers and writes: the command line). Every refusal must name the same first problem
and leave the hub unchanged both ways.

Use: ``pytestmark = pytest.mark.usefixtures("merge_mode")`` with the fixture imported into the
module (`merge_mode`); a test that needs to know the mode asks for the fixture's value.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from respine_desktop import meanwhile

MODES = ("here", "forked")


@pytest.fixture(params=MODES)
def merge_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The merge's row checks run `request.param`'s way where the merge would fork them (it
    does not when it has no new answers to stage meanwhile); ``forked`` also checks that each
    one that ran so did run in a child."""
    mode = str(request.param)
    if mode == "forked" and not sys.platform.startswith("linux"):
        pytest.skip("a child is forked on Linux only")  # pragma: no cover - CI runs Linux
    started: list[Any] = []  # the checks the merge would fork where it can
    real = meanwhile.start

    def start(fn: Any, *, fork: bool | None = None) -> Any:
        running = real(fn, fork=mode == "forked" if fork is None else fork)
        if fork is None:
            started.append(running)
        return running

    monkeypatch.setattr(meanwhile, "start", start)
    with warnings.catch_warnings():
        # (Python 3.12+ warns of a fork in a process of several threads: xdist's worker has
        # two; the child only computes and exits, taking no lock of theirs)
        warnings.filterwarnings("ignore", ".*fork.*", DeprecationWarning)
        yield mode
    assert all(r.forked == (mode == "forked") for r in started)
