"""The world a command runs in: which store, who acts, what time it is.

Built once by the root group from options and environment (--store/SVC_STORE,
--as/SVC_USER, SVC_NOW) and handed to the core, which never reads them itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from svc.store import Store, find_root

if TYPE_CHECKING:
    from svc.actions import Context
from svc.timeutil import parse_time


@dataclass
class Env:
    store_path: str | None
    as_user: str | None
    wait: float
    now_text: str | None
    cwd: Path
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        if self._store is None:
            store = Store.open(find_root(self.store_path, self.cwd), self.wait)
            # first of all: settle a write a killed svc left half-done (one stat when there is none)
            store.recover_pending()
            self._store = store
        return self._store

    def now(self, tz: dt.tzinfo | None = None) -> dt.datetime:
        zone = tz or self.store().config.tz
        if self.now_text:
            return parse_time(self.now_text, zone, "SVC_NOW")
        return dt.datetime.now(zone).replace(microsecond=0)

    def machine_now(self) -> dt.datetime:
        """The machine's own clock, whatever SVC_NOW says: destructive commands compare the two."""
        return dt.datetime.now(self.store().config.tz)

    def context(self) -> "Context":
        from svc.actions import Context, resolve_actor

        store = self.store()
        ctx = Context(store, resolve_actor(store, self.as_user), self.now())
        self._refuse_closed(ctx.now, "SVC_NOW" if self.now_text else "now")
        return ctx

    def parse_at(self, text: str | None, what: str = "--at") -> dt.datetime | None:
        moment = parse_time(text, self.store().config.tz, what) if text else None
        self._refuse_closed(moment, what)
        return moment

    def _refuse_closed(self, moment: dt.datetime | None, what: str) -> None:
        """No event is dated into a month whose report was made (svc/closing.py)."""
        if moment is not None:
            from svc.closing import refuse_closed

            refuse_closed(self.store(), moment, what)
