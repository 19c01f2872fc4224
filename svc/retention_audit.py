"""`svc check`'s audit of past disposals: every commit that deleted a patrol record is
judged by the rules as they stood at that commit, on its committer date (when it was
really recorded), from the record's content just before it went:

- the register must have gained its entry in that same commit, with the sha256 of that
  content, and the record's `id:` must have been its file name;
- its retention (the later of its stated date and when git first saw the file, in the
  office zone and its own offset, `retention.patrol_months` of that commit's svc.yaml but
  never under two years) must have run out by the committer date;
- its month must have had a summary, and no active hold and no open case may have named it.

A register entry written by hand beside a young record's deletion is caught here: the
entry's own dates are never trusted, they are computed again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from svc import yamlio
from svc.config import CONFIG_NAME
from svc.errors import SvcError
from svc.retention import MINIMUM_MONTHS, REGISTER_PATH, SUMMARY_DIR, due, months_of, sha256, words
from svc.schema import Problem
from svc.store import CASES, HOLDS, PATROLS, Store


@dataclass(frozen=True)
class Deletion:
    commit: str
    committed: dt.datetime  # the committer date: when the deletion was really recorded
    parent: str
    path: str  # the record file, relative to the store
    first_seen: dt.datetime | None  # when git last added the file before it went
    restored: bool = False  # a later commit put the record back: nothing was destroyed

    @property
    def record_id(self) -> str:
        return Path(self.path).stem


def deletions(store: Store) -> list[Deletion]:
    """Every commit's deletion of a patrol record file, oldest first, in one `git log`."""
    assert store.git is not None
    done = store.git.run("log", "--reverse", "--no-renames", "--diff-filter=AD", "--format=@%H %cI %P",
                         "--name-status", "--", PATROLS.folder, check=False)
    added: dict[str, dt.datetime] = {}
    out: list[Deletion] = []
    gone_at: dict[str, int] = {}  # path -> its latest deletion in `out`, until it is added again
    commit, committed, parent = "", None, ""
    for line in done.stdout.splitlines():
        if line.startswith("@"):
            fields = line[1:].split()
            commit, committed = fields[0], dt.datetime.fromisoformat(fields[1])
            parent = fields[2] if len(fields) > 2 else ""
        elif "\t" in line and committed is not None:
            status, path = line.split("\t", 1)
            if not path.endswith(".yaml"):
                continue
            if status.startswith("A"):
                if path in gone_at:  # put back (a sync restoring a held or changed record)
                    at = gone_at.pop(path)
                    out[at] = replace(out[at], restored=True)
                added[path] = committed
            elif status.startswith("D") and parent:
                gone_at[path] = len(out)
                out.append(Deletion(commit, committed, parent, path, added.get(path)))
    return out


def audit_disposals(store: Store) -> list[Problem]:
    """Disposals that were early, held, linked, unsummarized, of a mismatched file, or
    registered only afterwards (see the module's docstring)."""
    if store.git is None:
        return []
    gone = deletions(store)
    if not gone:
        return []
    git = store.git
    lang = store.config.lang
    commits = sorted({d.commit for d in gone})
    parents = sorted({d.parent for d in gone})
    specs = ([f"{d.parent}:{d.path}" for d in gone] + [f"{c}:{REGISTER_PATH}" for c in commits]
             + [f"{p}:{CONFIG_NAME}" for p in parents])
    texts = iter(git.blobs(specs))
    contents = [next(texts) for _ in gone]
    registers = {c: _entries(next(texts)) for c in commits}
    configs = {p: _rules(next(texts), store) for p in parents}
    protections = {p: _protections(store, p, [d.record_id for d in gone if d.parent == p]) for p in parents}
    try:
        from svc.keeping import register_entries

        registered_now = {e["record"] for e in register_entries(store)}
    except SvcError:
        registered_now = set()  # check_retention reports an unreadable register

    problems: list[Problem] = []
    for deletion, text in zip(gone, contents):
        record_id, short = deletion.record_id, deletion.commit[:10]

        def report(key: str, **values: Any) -> None:
            problems.append(Problem(deletion.path, None, words(lang, key, record_id=record_id, commit=short, **values)))

        entry = registers[deletion.commit].get(record_id)
        if entry is None:
            if record_id in registered_now:  # with no entry at all, the folder audit says so already
                report("audit-no-entry")
            continue
        if text is None or deletion.restored:  # a record put back was not destroyed
            continue
        node = yamlio.mapping_or_none(text)
        if node is None:
            continue
        if str(node.get("id")) != record_id:
            report("audit-id", name=Path(deletion.path).name, record_id=str(node.get("id")))
        if str(entry.get("sha256")) != sha256(text):
            report("audit-sha")
        try:
            stated = dt.datetime.fromisoformat(str(node.get("patrolled_at")))
        except ValueError:
            continue
        if stated.tzinfo is None:
            continue
        tz, months = configs[deletion.parent]
        when = due(stated, deletion.first_seen, months, tz)
        if deletion.committed < when.at:
            report("audit-early", date=deletion.committed.date().isoformat(), due=when.disposable_on.isoformat(),
                   months=months, period=when.period)
        summarized, holds, links = protections[deletion.parent]
        for month in sorted(months_of(stated, tz)):
            if month not in summarized:
                report("audit-unsummarized", month=month)
        for hold in holds.get(record_id, []):
            report("audit-held", hold=hold)
        for case in links.get(record_id, []):
            report("audit-linked", case=case)
    return problems


def _entries(text: str | None) -> dict[str, dict[str, Any]]:
    node = yamlio.mapping_or_none(text)
    entries = node.get("entries") if node else None
    if not isinstance(entries, list):
        return {}
    return {str(e.get("record")): e for e in entries if isinstance(e, dict)}


def _rules(text: str | None, store: Store) -> tuple[dt.tzinfo, int]:
    """The office zone and retention of svc.yaml as it was (today's where it does not read)."""
    node = yamlio.mapping_or_none(text) or {}
    tz: dt.tzinfo = store.config.tz
    try:
        from svc.timeutil import zone

        if node.get("timezone"):
            tz = zone(str(node["timezone"]))
    except SvcError:
        pass
    retention = node.get("retention")
    months = retention.get("patrol_months") if isinstance(retention, dict) else None
    if not isinstance(months, int) or isinstance(months, bool):
        months = store.config.patrol_retention_months
    return tz, max(months, MINIMUM_MONTHS)


def _protections(store: Store, commit: str, records: list[str]
                 ) -> tuple[set[str], dict[str, list[str]], dict[str, list[str]]]:
    """At `commit`: the months with a summary, the active holds and the open cases naming `records`."""
    assert store.git is not None
    git = store.git
    summarized = {Path(p).stem.removeprefix("patrol-") for p in git.files_at(commit, SUMMARY_DIR)
                  if Path(p).name.startswith("patrol-")}
    hold_files = [p for p in git.files_at(commit, HOLDS.folder) if p.endswith(".yaml")]
    holds: dict[str, list[str]] = defaultdict(list)
    for text in git.blobs([f"{commit}:{p}" for p in hold_files]):
        node = yamlio.mapping_or_none(text)
        if node and node.get("status") == "active":
            for target in node.get("records") or []:
                holds[str(target)].append(str(node.get("id")))
    links: dict[str, list[str]] = defaultdict(list)
    pattern = [arg for record in records for arg in ("-e", record)]
    found = git.run("grep", "-l", "-F", *pattern, commit, "--", CASES.folder, check=False).stdout.splitlines()
    case_files = [line.split(":", 1)[1] for line in found if ":" in line]
    for text in git.blobs([f"{commit}:{p}" for p in case_files]):
        node = yamlio.mapping_or_none(text)
        if node and node.get("status") == "open":
            for target in node.get("links") or []:
                links[str(target)].append(str(node.get("id")))
    return summarized, holds, links
