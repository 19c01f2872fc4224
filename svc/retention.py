"""The two-year rule for patrol records (每月底汇总由服务处归档保存，保存期两年).

A patrol record's clock starts at the cut-off of its month (the month's end, in office
time) and runs for the policy's months: a record from February 2024 may be disposed of
from 2026-03-01. A record is never disposable while its month has no summary, while it
is dated in the future, while a hold is on it, or while an open case links it. Disposal
removes exactly the disposable records and writes each into the disposal register
(销毁清册), which is never disposed of itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from svc import schema as s
from svc.model import ReplayError, View
from svc.projects import add_months

MINIMUM_MONTHS = 24  # the regulation: two years; an office may keep longer, never shorter
SUMMARY_DIR = "summaries"
REGISTER_PATH = "registers/disposal.yaml"


def month_of(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def cut_off(month: str) -> dt.date:
    """The first day after the month: when its records' retention clock starts."""
    year, mon = (int(p) for p in month.split("-"))
    return add_months(dt.date(year, mon, 1), 1)


def disposable_on(month: str, months: int) -> dt.date:
    return add_months(cut_off(month), months)


def sha256(text: str) -> str:
    import hashlib  # here: only sealing needs it

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- holds ------------------------------------------------------------------------------------

HOLD_SPEC = s.mapping(
    {
        "id": s.text(True),
        "status": s.enum(("active", "released"), True),
        "records": s.seq(s.text(), True),
        "reason": s.text(True),
        "case": s.text(),
        "history": s.seq(s.keyed(s.Spec("any")), True),
    }
)
HOLD_EVENTS: dict[str, dict[str, s.Spec]] = {
    "hold": {"records": s.seq(s.text(), True), "reason": s.text(True), "case": s.text()},
    "release": {"reason": s.text(True)},
}
HOLD_KEYS = tuple(HOLD_SPEC.fields)


def check_hold_node(node: Any, path: str) -> list[s.Problem]:
    return s.check_record(node, HOLD_SPEC, HOLD_EVENTS, path)


def replay_hold(history: list[dict[str, Any]]) -> str:
    if not history or history[0].get("action") != "hold":
        raise ReplayError(0, "the first event of a hold must be 'hold'")
    status = "active"
    for i, event in enumerate(history[1:], start=1):
        if event["action"] != "release" or status != "active":
            raise ReplayError(i, f"'{event['action']}' on a {status} hold")
        status = "released"
    return status


class Hold(View):

    @property
    def active(self) -> bool:
        return self.fields["status"] == "active"

    @property
    def records(self) -> list[str]:
        return self.fields["records"]


# --- the register ---------------------------------------------------------------------------

ENTRY_SPEC = s.mapping(
    {
        "record": s.text(True),
        "kind": s.text(True),
        "period": s.text(True),
        "required_retention_months": s.integer(True, 0),
        "cut_off": s.date(True),
        "disposable_on": s.date(True),
        "kept_days": s.integer(True, 0),
        "sha256": s.text(True),
        "approved_by": s.text(True),
        "disposed_by": s.text(True),
        "disposed_at": s.time(True),
    }
)
REGISTER_SPEC = s.mapping({"register": s.text(True), "entries": s.seq(ENTRY_SPEC)})


def check_register_node(node: Any, path: str) -> list[s.Problem]:
    return s.check_root(node, REGISTER_SPEC, path)


# --- words -------------------------------------------------------------------------------------

# What retention says when it keeps, refuses or reports, in the office's language (svc.yaml `lang`).
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "unreadable-record": "{where}: 无法读取（{why}），不销毁",
        "id-mismatch": "{where}: id {record_id!r} 与文件名 {name} 不符，不销毁",
        "uncommitted": "{where}: 有未提交的修改（与 HEAD 不同），不销毁；先提交或还原",
        "never-committed": "{where}: git 中从未提交过，不销毁",
        "unreadable-hold": "保全文件 {where} 无法读取（{why}），可能保全此记录",
        "unreadable-case": "案件文件 {where} 无法读取（{why}），可能关联此记录",
        "unreadable-summary": "月汇总 {where} 无法读取（{why}），{month} 视为未汇总",
        "committed-hold": "{hold}（已提交版本；工作区中被修改或删除）",
        "first-seen": "git 首次见到此记录于 {date}，保存期从 {period} 截止日起算",
        "future-seen": "git 首次见到此记录的时间晚于现在",
        "clock-ahead": "时钟 {now} 比本机时间 {machine} 超前（允许 {minutes} 分钟），拒绝执行销毁等操作；请检查 SVC_NOW",
        "plan-changed": "{record_id} 在计划之后已改变（sha256 不符），未销毁任何记录；请重新生成计划",
        "plan-blocked": "计划中的 {record_id} 现在不可销毁：{reason}；未销毁任何记录",
        "plan-unreadable": "{where}: 无法读取计划（{why}）；请使用 svc retention plan --format json 的输出",
        "plan-left": "{count} 条现在可销毁但不在计划中的记录未销毁",
        "apply-doubt": "未销毁任何记录：{first}（共 {count} 条记录存疑）；修复或提交后再执行",
        "audit-early": "巡查记录 {record_id} 于提交 {commit}（{date}）被销毁，早于保存期届满 {due}（{period} 截止日起 {months} 个月）",
        "audit-held": "巡查记录 {record_id} 于提交 {commit} 被销毁，当时有保全 {hold}",
        "audit-linked": "巡查记录 {record_id} 于提交 {commit} 被销毁，当时未结案件 {case} 关联它",
        "audit-unsummarized": "巡查记录 {record_id} 于提交 {commit} 被销毁，当时 {month} 尚无月汇总",
        "audit-id": "提交 {commit} 删除了 {name}，其 id 为 {record_id!r}，与文件名不符",
        "audit-sha": "提交 {commit} 删除的 {record_id} 与销毁清册中的 sha256 不符",
        "audit-no-entry": "提交 {commit} 删除了巡查记录 {record_id}，但该提交的销毁清册中没有它（清册条目是后补的）",
    },
    "en": {
        "unreadable-record": "{where}: cannot be read ({why}); not disposed of",
        "id-mismatch": "{where}: id {record_id!r} does not match the file name {name}; not disposed of",
        "uncommitted": "{where}: has changes not committed (differs from HEAD); not disposed of; commit or restore it",
        "never-committed": "{where}: never committed to git; not disposed of",
        "unreadable-hold": "hold file {where} cannot be read ({why}); it may hold this record",
        "unreadable-case": "case file {where} cannot be read ({why}); it may link this record",
        "unreadable-summary": "summary {where} cannot be read ({why}); {month} counts as not summarized",
        "committed-hold": "{hold} (as committed; changed or deleted in the work tree)",
        "first-seen": "git first saw the record on {date}; its retention runs from the {period} cut-off",
        "future-seen": "git first saw the record after now",
        "clock-ahead": "the clock {now} is ahead of this machine's {machine} (by more than {minutes} minutes); "
                       "a destructive command refuses it; check SVC_NOW",
        "plan-changed": "{record_id} changed after the plan was made (sha256 differs); nothing disposed of; make a new plan",
        "plan-blocked": "{record_id} in the plan is not disposable now: {reason}; nothing disposed of",
        "plan-unreadable": "{where}: cannot read the plan ({why}); give the output of svc retention plan --format json",
        "plan-left": "{count} records disposable now but not in the plan were kept",
        "apply-doubt": "nothing disposed of: {first} ({count} records in doubt); fix or commit it and run again",
        "audit-early": "patrol record {record_id} disposed of in commit {commit} ({date}), before its retention ended on "
                       "{due} ({months} months from the {period} cut-off)",
        "audit-held": "patrol record {record_id} disposed of in commit {commit} while hold {hold} was on it",
        "audit-linked": "patrol record {record_id} disposed of in commit {commit} while open case {case} linked it",
        "audit-unsummarized": "patrol record {record_id} disposed of in commit {commit} before {month} had a summary",
        "audit-id": "commit {commit} deleted {name}, whose id {record_id!r} does not match its file name",
        "audit-sha": "commit {commit} deleted {record_id} with a content whose sha256 is not the register's",
        "audit-no-entry": "commit {commit} deleted patrol record {record_id} without a disposal register entry in "
                          "that commit (the entry was added afterwards)",
    },
}


def words(lang: str, key: str, **values: object) -> str:
    table = WORDS.get(lang, WORDS["zh"])
    return table.get(key, WORDS["en"][key]).format(**values)


CLOCK_SKEW = dt.timedelta(minutes=5)  # how far SVC_NOW may run ahead of the machine before destruction is refused


def refuse_clock_ahead(now: dt.datetime, machine_now: dt.datetime, lang: str) -> None:
    """A destructive command never trusts a clock set ahead of the machine's own."""
    if now > machine_now + CLOCK_SKEW:
        from svc.errors import RefusedError

        raise RefusedError(words(lang, "clock-ahead", now=now.isoformat(), machine=machine_now.replace(microsecond=0)
                                 .isoformat(), minutes=int(CLOCK_SKEW.total_seconds() // 60)))


# --- the record's date, under every zone it may be read in -------------------------------------------

def months_of(moment: dt.datetime, tz: dt.tzinfo) -> set[str]:
    """The month of `moment` in the office zone and in the zone it was written in (its own
    offset): a change of `timezone:` must never move a record into an earlier month."""
    return {month_of(moment, tz), moment.strftime("%Y-%m")}


@dataclass(frozen=True)
class Due:
    period: str  # the latest month the record may belong to
    disposable_on: dt.date
    at: dt.datetime  # the first moment it may go: the start of that day in the latest zone that applies
    seen_later: bool  # git first saw it in a later month than it says


def due(stated: dt.datetime, first_seen: dt.datetime | None, months: int, tz: dt.tzinfo) -> Due:
    """When a record may be disposed of: its date is the later of what it says and when git
    first saw it. What it says is read in the office zone and in its own offset, whichever
    gives the later month and the later midnight; git's date (whose offset is only the
    committing machine's) in the office zone."""
    stated_period = max(months_of(stated, tz))
    period = stated_period
    if first_seen is not None:
        period = max(period, month_of(first_seen, tz))
    day = disposable_on(period, months)
    at = max(dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone) for zone in (tz, stated.tzinfo))
    return Due(period, day, at, period != stated_period)


# --- the plan ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A patrol record file as the plan sees it. `id` is its file name's stem: the file the
    plan lists is the file apply removes."""

    id: str
    path: str  # as shown to the user
    stated: dt.datetime | None  # `patrolled_at`; None when the file cannot be read
    first_seen: dt.datetime | None  # when git first saw the file (None: no git, or never committed)
    sha256: str
    doubts: tuple[str, ...] = ()  # reasons found while reading it (unreadable, id, uncommitted)


@dataclass(frozen=True)
class Item:
    id: str
    period: str
    disposable_on: dt.date | None
    reasons: tuple[str, ...] = ()
    sha256: str = ""
    path: str = ""
    doubts: tuple[str, ...] = ()  # the reasons that are doubts (a file that cannot be read, ...): apply refuses

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "period": self.period,
                               "disposable_on": self.disposable_on.isoformat() if self.disposable_on else None}
        if self.sha256:
            out["sha256"] = self.sha256
        if self.doubts:
            out["doubts"] = list(self.doubts)
        if self.reasons:
            out["reason"] = "; ".join(self.reasons)
            out["reasons"] = list(self.reasons)
        return out


@dataclass
class Plan:
    disposable: list[Item] = field(default_factory=list)
    blocked: list[Item] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"disposable": [i.as_json() for i in self.disposable], "blocked": [i.as_json() for i in self.blocked]}


@dataclass(frozen=True)
class Facts:
    """What the plan needs to know about the rest of the store. Anything that could not be
    read and might protect a record is a doubt, and a doubt keeps the record."""

    summarized: frozenset[str]  # months (YYYY-MM) with a readable summary
    holds: dict[str, list[str]]  # record id -> reasons of the active holds on it
    open_links: dict[str, list[str]]  # record id -> open cases that link it
    doubts: dict[str, list[str]] = field(default_factory=dict)  # record id -> unreadable files naming it
    doubt_all: tuple[str, ...] = ()  # unreadable files that may protect any record
    month_doubts: dict[str, list[str]] = field(default_factory=dict)  # month -> unreadable summaries of it
    git: bool = False  # the store is in git: a record git never saw is not disposable
    lang: str = "en"


def plan(records: Iterable[Candidate], facts: Facts, months: int, now: dt.datetime, tz: dt.tzinfo) -> Plan:
    """Which records may be disposed of at `now`, and why each other one may not."""
    out = Plan()
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    for record in sorted(records, key=lambda r: (r.stated or far, r.id)):
        doubts: list[str] = list(record.doubts) + list(facts.doubt_all) + facts.doubts.get(record.id, [])
        if record.stated is None:
            out.blocked.append(Item(record.id, "", None, tuple(doubts), record.sha256, record.path, tuple(doubts)))
            continue
        for month in sorted(months_of(record.stated, tz)):
            doubts += facts.month_doubts.get(month, [])
        reasons = list(doubts)
        when = due(record.stated, record.first_seen, months, tz)
        if record.stated > now:
            reasons.append("dated in the future")
        if record.first_seen is not None and record.first_seen > now:
            reasons.append(words(facts.lang, "future-seen"))
        for month in sorted(months_of(record.stated, tz)):
            if month not in facts.summarized:
                reasons.append(f"month {month} has no summary (svc patrol summary --month {month})")
        for hold in facts.holds.get(record.id, []):
            reasons.append(f"held: {hold}")
        for case_id in facts.open_links.get(record.id, []):
            reasons.append(f"linked from open case {case_id}")
        if now < when.at:
            reasons.append(f"retention runs until {when.disposable_on} ({months} months from the {when.period} cut-off)")
            if when.seen_later and record.first_seen is not None:
                reasons.append(words(facts.lang, "first-seen", date=record.first_seen.date().isoformat(),
                                     period=when.period))
        item = Item(record.id, when.period, when.disposable_on, tuple(reasons), record.sha256, record.path,
                    tuple(doubts))
        (out.blocked if reasons else out.disposable).append(item)
    return out
