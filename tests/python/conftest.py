"""Known failures of the oracle suites: tests listed in known_failures.txt are
marked xfail(strict=True), so they are reported but do not fail the run, and a
listed test that starts passing fails it: the list can only shrink."""
import os

import pytest

_HERE = os.path.dirname(__file__)
_KNOWN = os.path.join(_HERE, "known_failures.txt")


def _known():
    if not os.path.exists(_KNOWN):
        return set()
    with open(_KNOWN) as fh:
        return {l.split("#")[0].strip() for l in fh if l.split("#")[0].strip()}


def pytest_collection_modifyitems(config, items):
    known = _known()
    for item in items:
        if item.nodeid.split("/")[-1] in known:
            item.add_marker(pytest.mark.xfail(reason="known failure (tests/python/known_failures.txt)", strict=True))
