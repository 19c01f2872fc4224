"""A store recorded "back then": for tests whose records must be old in git's eyes too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Svc, make_store


class Recorded(Svc):
    """A store whose every commit was made when svc's clock says (GIT_COMMITTER_DATE), as if
    the office had really recorded it then: a record's retention runs from when git first
    saw it, so records of 2024 must have been committed in 2024."""

    def __call__(self, *args: str, now: str | None = None, env: dict[str, str] | None = None,
                 **kw: Any) -> Any:
        return super().__call__(*args, now=now, env={"GIT_COMMITTER_DATE": committed(now or self.now), **(env or {})},
                                **kw)


def committed(now: str) -> str:
    """SVC_NOW as a committer date (a date alone is the start of that day in Beijing)."""
    return f"{now}T00:00:00+08:00" if len(now) == 10 else now


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    return Recorded(make_store(tmp_path / "store"))
