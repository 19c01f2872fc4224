"""What `svc sync` settles itself so that a merge of clones keeps every record.

Two things a merge driver cannot do, because git never hands them to it as one file:

- **Two records under one ID.** Two clones with one desk letter (a copied folder) open
  different records in the same month: each adds `cases/2026/11/C2611-A001.yaml`. Before it
  rebases, sync finds every record this clone added and has not pushed whose path the remote
  already holds as a different record (another first event or other intake facts), and
  renumbers this clone's to the next number free on both sides. Its unpushed commits are
  rewritten as if the record had been made under the new ID (file, `id:`, every reference in
  the files those commits touched, the commit messages): published history is never
  rewritten, and the record published first keeps its ID. After the rebase a note on each of
  the two records says what happened.
- **A disposal against a change.** One clone disposes of a patrol record (retention apply)
  while another records a change to it: the rebase stops on a modify/delete conflict. The
  change wins: the record is kept with the change and a note saying the disposal was undone
  (who disposed of it, when, who approved); the disposal register keeps its entry (it is
  append-only), and `svc retention plan` lists the record again if it is still disposable.
  Likewise a hold put on the record, or an open case linking it, on the other clone while it
  was disposed of: a hold beats deletion, so sync restores the record from git with a note.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svc import yamlio
from svc.errors import RecordError, SvcError
from svc.gitrepo import Git
from svc.model import ReplayError, plain
from svc.store import KINDS, PATROLS, Actor, RecordKind, Store, put_fields
from svc.timeutil import stamp

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "renumbered": "{old} 在另一个副本上已被另一条记录使用；本副本的记录改编为 {new}（两条记录上各加了备注）。"
                      "两个副本使用同一个台号 {desk}：请在本副本运行 svc setup --desk 换一个其他副本未用的字母",
        "note-renumbered": "同步：本记录原编号 {old}，另一个副本（台号相同）已用 {old} 登记另一条记录（{other}），"
                           "故改编为 {new}；另一条记录保留 {old}",
        "note-kept-id": "同步：另一个副本（台号相同）也以 {old} 登记了另一条记录（{other}），"
                        "该记录已改编为 {new}；本记录保留 {old}",
        "disposal-undone": "{record} 在另一个副本上已被销毁，但同时在另一副本上有新的记录：保留该记录并加备注，"
                           "销毁清册的条目保留",
        "note-disposal-undone": "同步：本记录于 {disposed_at} 由 {disposed_by} 销毁（{approved_by} 批准），"
                                "但另一个副本同时对其作了新的记录，故撤销销毁、保留本记录；销毁清册的条目保留。"
                                "如仍可销毁，可再次运行 svc retention apply",
        "refs-merge": "{old} 需要改编（另一个副本已用该编号），但本副本未推送的提交中含合并提交，无法改写；"
                      "请先处理后再同步",
        "protected-restored": "{record} 在一个副本上被销毁，而另一个副本同时对其{why}：保护优先于销毁，记录已恢复并加备注",
        "note-protected-restored": "同步：本记录于 {disposed_at} 由 {disposed_by} 销毁（{approved_by} 批准），但另一个"
                                   "副本同时对其{why}；保护优先于销毁，故撤销销毁、恢复本记录；销毁清册的条目保留",
        "note-deleted-undone": "同步：本记录在一个副本上被删除（销毁清册中没有相应条目），而另一个副本同时对其作了"
                               "新的记录，故保留本记录",
        "why-hold": "设置了保全（{holds}）",
        "why-link": "由处理中的案件关联（{cases}）",
    },
    "en": {
        "renumbered": "{old} is another record on another clone; this clone's is now {new} (a note on each "
                      "says so). Two clones use desk letter {desk}: give this one its own with svc setup --desk "
                      "LETTER (one no other clone uses)",
        "note-renumbered": "sync: this record was made as {old}, which another clone (same desk letter) had "
                           "already given to another record ({other}); it is now {new}, the other keeps {old}",
        "note-kept-id": "sync: another clone (same desk letter) also made a record as {old} ({other}); that "
                        "one is now {new}, this one keeps {old}",
        "disposal-undone": "{record} was disposed of on one clone while another recorded a change to it: the "
                           "record is kept with the change and a note; the disposal register keeps its entry",
        "note-disposal-undone": "sync: disposed of at {disposed_at} by {disposed_by} (approved by {approved_by}) "
                                "while another clone recorded a change to it; the change wins, so the disposal is "
                                "undone and the record kept; the disposal register keeps its entry. If it is "
                                "still disposable, svc retention apply disposes of it again",
        "refs-merge": "{old} must be renumbered (another clone has a record under it), but this clone's unpushed "
                      "commits include a merge commit, which sync does not rewrite; sync those by hand first",
        "protected-restored": "{record} was disposed of on one clone while another {why}: protection beats "
                              "disposal, so the record is restored with a note",
        "note-protected-restored": "sync: disposed of at {disposed_at} by {disposed_by} (approved by {approved_by}) "
                                   "while another clone {why}; protection beats disposal, so the disposal is undone "
                                   "and the record restored; the disposal register keeps its entry",
        "note-deleted-undone": "sync: deleted on one clone (with no disposal register entry) while another "
                               "clone recorded a change to it; the change wins, so the record is kept",
        "why-hold": "put a hold on it ({holds})",
        "why-link": "linked it from an open case ({cases})",
    },
}


def say(lang: str, key: str, **values: object) -> str:
    return MESSAGES.get(lang, MESSAGES["zh"])[key].format(**values)


@dataclass(frozen=True)
class Renumbered:
    old: str
    new: str
    kind: RecordKind
    other: str  # the record that kept the ID, in a few words
    mine: str  # this clone's record, in a few words


def _kind_of_path(rel: str) -> RecordKind | None:
    folder = rel.split("/")[0]
    return next((k for k in KINDS if k.folder == folder), None)


def _replay_kind(kind: RecordKind) -> Any:
    from svc.merge import KINDS as REPLAYS

    return REPLAYS[kind.folder]


# --- two records under one ID ------------------------------------------------------------------

def renumber_clashes(store: Store, git: Git, remote: str, branch: str, env: dict[str, str]) -> list[Renumbered]:
    """Renumber this clone's unpushed new records whose ID the remote has as another record
    (see the module's doc). Nothing is done when the remote cannot be fetched: the pull
    that follows says why."""
    from svc.merge import describe, same_record

    if git.run("fetch", "--quiet", remote, branch, check=False).returncode != 0:
        return []
    theirs = git.run("rev-parse", "FETCH_HEAD", check=False).stdout.strip()
    base = git.run("merge-base", "HEAD", theirs, check=False).stdout.strip()
    head = git.run("rev-parse", "HEAD").stdout.strip()
    if not theirs or not base or base == head:
        return []
    folders = [k.folder for k in KINDS]
    added = git.run("diff", "--name-only", "--no-renames", "--diff-filter=A", base, head, "--", *folders).stdout.split()
    clashes: list[Renumbered] = []
    taken: set[str] = set()
    for rel in added:
        kind = _kind_of_path(rel)
        remote_text = git.show(theirs, rel)
        if kind is None or remote_text is None or not rel.endswith(".yaml"):
            continue
        mine_text = git.show(head, rel) or ""
        try:
            mine_node = yamlio.loads(mine_text, rel)
            theirs_node = yamlio.loads(remote_text, rel)
        except RecordError:  # an unreadable side: the merge driver words it
            continue
        if not isinstance(mine_node, dict) or not isinstance(theirs_node, dict):
            continue
        replays = _replay_kind(kind)
        for node in (mine_node, theirs_node):
            kind.check(node, rel)  # numbers typed as the store reads them
        if same_record(mine_node, theirs_node, replays):
            continue
        old = Path(rel).stem
        new = _free_id(store, git, theirs, kind, old, taken)
        taken.add(new)
        clashes.append(Renumbered(old, new, kind, describe(theirs_node), describe(mine_node)))
    if clashes:
        # noted first: a sync killed after the branch moved notes them the next time
        _journal(store, pending(store) + clashes)
        _rewrite_unpushed(store, git, base, head, clashes, env)
    return clashes


JOURNAL = "renumbered.json"


def pending(store: Store) -> list[Renumbered]:
    """Renumberings whose notes are not written yet (a sync was killed, or its pull failed)."""
    import json

    from svc.store import LOCAL_DIR

    path = store.root / LOCAL_DIR / JOURNAL
    try:
        rows = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    except (OSError, ValueError):
        return []
    folders = {k.folder: k for k in KINDS}
    return [Renumbered(r["old"], r["new"], folders[r["kind"]], r["other"], r["mine"]) for r in rows
            if isinstance(r, dict) and r.get("kind") in folders]


def _journal(store: Store, clashes: list[Renumbered]) -> None:
    import json

    from svc.store import LOCAL_DIR

    path = store.root / LOCAL_DIR / JOURNAL
    if not clashes:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(exist_ok=True)
    rows = [{"old": c.old, "new": c.new, "kind": c.kind.folder, "other": c.other, "mine": c.mine} for c in clashes]
    yamlio.write_atomic(path, json.dumps(rows, ensure_ascii=False) + "\n")


def clash_stopped(stderr: str) -> bool:
    """Whether the merge driver stopped a rebase on two records under one ID."""
    from svc.merge import REFUSALS

    marks = [table["two-records"].split("{")[0] for table in REFUSALS.values()]
    return any(line.startswith("svc merge: ") and any(mark in line for mark in marks) for line in stderr.splitlines())


def _free_id(store: Store, git: Git, theirs: str, kind: RecordKind, old: str, taken: set[str]) -> str:
    """The next number after every one this desk's stem has here, on the remote, in the
    disposal register, or just given: it collides with neither side."""
    match = kind.pattern.match(old)
    assert match is not None
    stem = old[: -len(match.group(4))]
    folder = f"{kind.folder}/20{match.group(1)}/{match.group(2)}"
    names = set(git.files_at(theirs, folder)) | {f"{folder}/{p.name}" for p in (store.root / folder).glob("*.yaml")}
    numbers = [int(m.group(1)) for name in names if (m := re.match(re.escape(stem) + r"(\d+)\.yaml$", Path(name).name))]
    numbers += [int(t[len(stem):]) for t in taken if t.startswith(stem)]
    from svc.retention import REGISTER_PATH

    here = store.root / REGISTER_PATH
    for text in (here.read_text(encoding="utf-8") if here.exists() else "", git.show(theirs, REGISTER_PATH) or ""):
        numbers += [int(n) for n in re.findall(re.escape(stem) + r"(\d+)", text)]  # a disposed number stays used
    return f"{stem}{max(numbers, default=0) + 1:03d}"


def _pattern(old: str) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(old) + r"(?![0-9])")


def _rewrite_unpushed(store: Store, git: Git, base: str, head: str, clashes: list[Renumbered],
                      env: dict[str, str]) -> None:
    """Make this clone's unpushed commits again, each renumbered record under its new ID
    from the first, and move the branch (and the work tree) to them."""
    commits = git.run("rev-list", "--reverse", "--parents", f"{base}..{head}").stdout.splitlines()
    if any(len(line.split()) > 2 for line in commits):
        raise SvcError(say(store.config.lang, "refs-merge", old=clashes[0].old))
    swaps = [(_pattern(c.old), c.new) for c in clashes]

    def swap(text: str) -> str:
        for pattern, new in swaps:
            text = pattern.sub(new, text)
        return text

    index_file = git.run("rev-parse", "--git-path", "svc-renumber.index").stdout.strip()
    index_env = {**env, "GIT_INDEX_FILE": str((store.root / index_file).resolve())}
    parent = base
    for line in commits:
        commit = line.split()[0]
        git.run("read-tree", commit, env=index_env)
        touched = git.run("diff", "--name-only", "--no-renames", base, commit).stdout.split()
        for rel in touched:
            listed = git.run("ls-tree", commit, "--", rel).stdout.split()
            if len(listed) < 3:
                continue  # deleted in this commit
            mode, blob = listed[0], listed[2]
            new_rel = swap(rel)
            if rel.endswith(".yaml"):  # records and registers are text; any other file keeps its bytes
                text = git.show(commit, rel) or ""
                new_text = swap(text)
                if new_text != text:
                    blob = git.run("hash-object", "-w", "--stdin", input_text=new_text).stdout.strip()
            if new_rel == rel and blob == listed[2]:
                continue
            if new_rel != rel:
                git.run("update-index", "--force-remove", rel, env=index_env)
            git.run("update-index", "--add", "--cacheinfo", f"{mode},{blob},{new_rel}", env=index_env)
        tree = git.run("write-tree", env=index_env).stdout.strip()
        fields = git.run("log", "-1", "--format=%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B", commit).stdout
        an, ae, ad, cn, ce, cd, message = fields.split("\x00", 6)
        who = {**env, "GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": ad,
               "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce, "GIT_COMMITTER_DATE": cd}
        parent = git.run("commit-tree", tree, "-p", parent, "-F", "-", env=who,
                         input_text=swap(message.rstrip("\n")) + "\n").stdout.strip()
    Path(index_env["GIT_INDEX_FILE"]).unlink(missing_ok=True)
    # the work tree holds no change to tracked files (sync checked): --keep moves it safely
    git.run("reset", "-q", "--keep", parent)


def note_renumbered(store: Store, clashes: list[Renumbered], now: dt.datetime | None) -> list[str]:
    """After the rebase: a note on each of the two records, in one commit; what to tell the user."""
    lang = store.config.lang
    changes: dict[Path, str] = {}
    told = []
    # a renumbering that never took effect (killed before the branch moved) has no new file
    clashes = [c for c in clashes if store.path_of(c.new, c.kind).exists()]
    if not clashes:
        _journal(store, [])
        return []
    first = clashes[0]
    mine = store.path_of(first.new, first.kind)
    # the notes are this clone's: by whoever made its record
    made_by = str(yamlio.loads(mine.read_text(encoding="utf-8"), store.shown(mine))["history"][0]["by"])
    user = store.config.user(made_by)
    actor = Actor(made_by, user.name if user else made_by, user.role if user else None)
    for clash in clashes:
        replays = _replay_kind(clash.kind)
        for record_id, key, other in ((clash.new, "note-renumbered", clash.other), (clash.old, "note-kept-id", clash.mine)):
            path = store.path_of(record_id, clash.kind)
            if clash.kind.folder == "holds" or not path.exists():  # a hold's history has no notes; the commit says it
                continue
            node = yamlio.loads(path.read_text(encoding="utf-8"), store.shown(path))
            text = say(lang, key, old=clash.old, new=clash.new, other=other)
            if any(ev.get("action") == "note" and ev.get("text") == text for ev in plain(node["history"])):
                continue  # written by a sync killed before it cleared its journal
            _append_note(node, node["history"], replays, actor.id, now, text)
            changes[path] = yamlio.dumps(node)
        desk = clash.old.split("-")[1].rstrip("0123456789")
        told.append(say(lang, "renumbered", old=clash.old, new=clash.new, desk=desk))
    if changes:
        from svc.actions import message

        ids = [c.new for c in clashes] + [c.old for c in clashes]
        at = max(str(yamlio.loads(text, "-")["history"][-1]["at"]) for text in changes.values())
        store.write(dict(changes), message("sync: renumber " + ", ".join(f"{c.old} -> {c.new}" for c in clashes),
                                           actor, at, "renumber", ids), actor, at)
    _journal(store, [])
    return told


def _append_note(node: Any, history: Any, replays: Any, by: str, now: dt.datetime | None, text: str) -> None:
    """A note at `now`, never before the record's last event (times never go back)."""
    last = dt.datetime.fromisoformat(str(history[-1]["at"]))
    at = max(now.astimezone(last.tzinfo), last) if now is not None else last
    history.append({"at": stamp(at), "by": by, "action": "note", "text": text})
    try:
        put_fields(node, replays.state(replays.replay(plain(history))), replays.order)
    except ReplayError as exc:
        raise SvcError(f"{node.get('id')}: a note cannot be added: {exc.message}") from None


# --- a disposal against a change -----------------------------------------------------------------

def resolve_disposals(store: Store, git: Git, env: dict[str, str]) -> list[str] | None:
    """Carry a stopped rebase through every modify/delete conflict on a patrol record (the
    change wins; see the module's doc). What to tell the user, or None when the rebase
    stopped on something else (the caller aborts it)."""
    told: list[str] = []
    for _ in range(1000):  # one round per replayed commit that stops; a bound, not a limit met
        if not _rebasing(git):
            return told
        unmerged = git.run("diff", "--name-only", "--diff-filter=U").stdout.split()
        if not unmerged:
            return None
        for rel in unmerged:
            stages = {line.split()[2] for line in git.run("ls-files", "-u", "--", rel).stdout.splitlines()}
            if _kind_of_path(rel) is not PATROLS or len(stages & {"2", "3"}) != 1:
                return None
            kept = git.run("show", f":{max(stages & {'2', '3'})}:{rel}").stdout
            told.append(_keep_changed(store, rel, kept))
            git.run("add", "--", rel)
        done = git.run("-c", "core.editor=true", "rebase", "--continue", env={**env, "GIT_EDITOR": "true"},
                       check=False)
        told += [line.removeprefix("svc merge: ") for line in done.stderr.splitlines() if line.startswith("svc merge: ")]
        if done.returncode == 0 and not _rebasing(git):
            return told
    return None


def parted_at(git: Git) -> str | None:
    """Where this clone and the remote parted (renumber_clashes fetched the remote's tip)."""
    theirs = git.run("rev-parse", "--verify", "-q", "FETCH_HEAD", check=False).stdout.strip()
    return git.run("merge-base", "HEAD", theirs, check=False).stdout.strip() or None if theirs else None


def restore_protected(store: Store, git: Git, base: str | None, now: dt.datetime | None) -> list[str]:
    """After the rebase: a patrol record disposed of on one clone (since `base`, where the
    clones parted) that the other protected meanwhile (a hold on it, an open case linking it)
    is restored from git with a note. A hold beats deletion; a single clone never gets here,
    since retention apply re-checks holds and links under the lock. A held record missing
    from the work tree is restored whenever it was disposed of (a sync killed before this
    step leaves one); the open cases are read only when a disposal came in this sync."""
    from svc.actions import message
    from svc.keeping import facts
    from svc.retention import Facts

    gone = git.run("diff", "--name-only", "--no-renames", "--diff-filter=D", base, "HEAD", "--", PATROLS.folder,
                   check=False).stdout.split() if base else []
    known = facts(store) if gone else Facts(frozenset(), _active_holds(store), {})
    for record_id in known.holds:
        rel = store.rel(store.path_of(record_id, PATROLS)) if PATROLS.pattern.match(record_id) else None
        if rel and rel not in gone and not (store.root / rel).exists() and _register_entry(store, record_id):
            gone.append(rel)
    if not gone:
        return []
    lang = store.config.lang
    told: list[str] = []
    for rel in gone:
        record_id = Path(rel).stem
        holds, cases = known.holds.get(record_id), known.open_links.get(record_id)
        if not holds and not cases or (store.root / rel).exists():
            continue
        deleted_in = git.run("log", "-1", "--format=%H", "--diff-filter=D", "HEAD", "--", rel).stdout.strip()
        text = git.show(f"{deleted_in}^", rel) if deleted_in else None
        if text is None:
            continue
        why = say(lang, "why-hold", holds="; ".join(holds)) if holds else say(lang, "why-link", cases=", ".join(cases or []))
        entry = _register_entry(store, record_id) or {}
        node = yamlio.loads(text, rel)
        by = entry.get("disposed_by")
        if not by or (store.config.users and by not in store.config.users):
            by = str(node["history"][-1]["by"])
        _append_note(node, node["history"], _replay_kind(PATROLS), by, now,
                     say(lang, "note-protected-restored", disposed_at=entry.get("disposed_at", "?"),
                         disposed_by=entry.get("disposed_by", "?"), approved_by=entry.get("approved_by", "?"), why=why))
        user = store.config.user(by)
        actor = Actor(by, user.name if user else by, user.role if user else None)
        at = str(node["history"][-1]["at"])
        store.write({store.root / rel: yamlio.dumps(node)},
                    message(f"sync: disposal of {record_id} undone (protected on another clone)", actor, at,
                            "restore", [record_id]), actor, at)
        told.append(say(lang, "protected-restored", record=record_id, why=why))
    return told


def _active_holds(store: Store) -> dict[str, list[str]]:
    """Record -> the active holds on it (the holds folder alone: cheap on every sync)."""
    from svc.store import HOLDS

    held: dict[str, list[str]] = {}
    for record in store.iter_records(HOLDS, []):
        if record.view.active:
            for target in record.view.records:
                held.setdefault(target, []).append(f"{record.view.id} ({record.view.fields['reason']})")
    return held


def _rebasing(git: Git) -> bool:
    for name in ("rebase-merge", "rebase-apply"):
        where = git.run("rev-parse", "--git-path", name).stdout.strip()
        if (git.root / where).exists():
            return True
    return False


def _keep_changed(store: Store, rel: str, text: str) -> str:
    """Write the changed side of a disposed-of record back, with a note saying the
    disposal was undone and what the register says of it."""
    lang = store.config.lang
    path = store.root / rel
    record_id = path.stem
    node = yamlio.loads(text, rel)
    history = node["history"]
    entry = _register_entry(store, record_id)
    disposed_at = dt.datetime.fromisoformat(entry["disposed_at"]) if entry else dt.datetime.fromisoformat(
        str(history[-1]["at"]))
    by = entry.get("disposed_by") if entry else None
    if not by or (store.config.users and by not in store.config.users):
        by = str(history[-1]["by"])
    note = say(lang, "note-disposal-undone", disposed_at=entry["disposed_at"], disposed_by=entry.get("disposed_by"),
               approved_by=entry.get("approved_by")) if entry else say(lang, "note-deleted-undone")
    _append_note(node, history, _replay_kind(PATROLS), by, disposed_at, note)
    yamlio.write_atomic(path, yamlio.dumps(node))
    return say(lang, "disposal-undone", record=record_id)


def _register_entry(store: Store, record_id: str) -> dict[str, Any] | None:
    """The register's last entry for the record (the work tree's register: merged already)."""
    from svc.retention import REGISTER_PATH

    path = store.root / REGISTER_PATH
    try:
        node = yamlio.load_file(path, store.shown(path)) if path.exists() else None
    except (RecordError, OSError, UnicodeDecodeError):  # svc check words an unreadable register
        return None
    entries = [e for e in plain((node or {}).get("entries") or []) if isinstance(e, dict) and e.get("record") == record_id]
    return entries[-1] if entries else None


__all__ = ["Renumbered", "clash_stopped", "note_renumbered", "pending", "renumber_clashes", "resolve_disposals", "restore_protected"]
