"""What the duty-log and handover commands do to the store: read the day's file, apply
the rules in `duty`, append one sealed event, write and commit (one commit per command)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from svc import duty, workflow
from svc.actions import Context, message
from svc.errors import NotFoundError, RefusedError
from svc.model import plain
from svc.store import Store
from svc.timeutil import stamp


def _append(ctx: Context, day: dt.date, event: dict[str, Any], subject: str, action: str,
            precondition: Any = None) -> dict[str, Any]:
    """Append `event` to the day's log under the lock; `precondition(history)` may refuse."""
    from svc import yamlio
    from svc.store import ordered_node

    store = ctx.store
    with store.locked():
        path, node = duty.read_day(store, day, precise=True)
        history = plain(node["history"]) if node is not None else []
        if precondition is not None:
            precondition(history)
        if node is None and event["action"] not in ("entry", "handover"):
            raise NotFoundError(f"no duty log for {day.isoformat()}")
        if history and dt.datetime.fromisoformat(history[-1]["at"]) > dt.datetime.fromisoformat(event["at"]):
            raise RefusedError(f"{event['at']} is before the log's last event ({history[-1]['at']}); "
                               "the duty log is written in order")
        event = duty.sealed(history, event)
        if node is None:
            node = ordered_node({"date": day.isoformat(), "history": [event]}, duty.DAY_KEYS)
        else:
            node["history"].append(event)
        commit = message(subject, ctx.actor, event["at"], action, [f"duty {day.isoformat()}"])
        store.write({path: yamlio.dumps(node)}, commit, ctx.actor, event["at"])
    return event


def day_of(ctx: Context, moment: dt.datetime) -> dt.date:
    return moment.astimezone(ctx.store.config.tz).date()


def add_entry(ctx: Context, text: str, at: dt.datetime | None) -> dt.date:
    text = workflow.need_text(text, "TEXT")
    moment = workflow.not_future(at, ctx.now)
    day = day_of(ctx, moment)
    event = workflow.event("entry", moment, ctx.actor.id, text=text)
    _append(ctx, day, event, f"duty {day.isoformat()}: entry by {ctx.actor.id}", "duty-add")
    return day


def sign(ctx: Context, day: dt.date | None) -> dt.date:
    duty.need_manager(ctx.actor.role, ctx.actor.id)
    moment = ctx.now
    day = day or day_of(ctx, moment)
    if day > day_of(ctx, moment):
        raise RefusedError(f"{day.isoformat()} has not come yet")

    def ready(history: list[dict[str, Any]]) -> None:
        if not history:
            raise NotFoundError(f"no duty log for {day.isoformat()}: nothing to sign")
        if not duty.unsigned(history):
            raise RefusedError(f"the duty log of {day.isoformat()} is already signed; nothing new since")

    # the supervisor may check the log the next morning: the signature is filed in the day
    # it signs, at the time it was made
    event = workflow.event("sign", moment, ctx.actor.id)
    _append(ctx, day, event, f"duty {day.isoformat()}: signed by {ctx.actor.id}", "duty-sign", ready)
    return day


def open_items(store: Store, user: str, now: dt.datetime, lang: str) -> list[dict[str, Any]]:
    """Open cases being handed over: the outgoing person's, and the desk's unassigned ones,
    each with its next running deadline."""
    from svc import agenda
    from svc.index import CaseIndex

    rows = CaseIndex(store).refresh(want=("open",)).rows("open")
    items = []
    for row in sorted(rows, key=lambda r: (r["opened_at"], r["id"])):
        if row.get("assignee") not in (user, None) or dt.datetime.fromisoformat(row["opened_at"]) > now:
            continue  # someone else's, or opened after the handover (given with --at)
        running = sorted(agenda.case_items(row, now, lang), key=lambda i: i.when)
        first = running[0] if running else None
        items.append({"id": row["id"], "what": (row.get("summary") or row["kind"]).strip() or row["kind"],
                      "due": stamp(first.due_at) if first else None, "rule": first.rule if first else None,
                      "urgent": [i for i in running if i.rule in duty.URGENT_RULES]})
    return items


def hand_over(ctx: Context, to: str, equipment: str, note: str | None, at: dt.datetime | None) -> tuple[dt.date, int, list[dict[str, Any]]]:
    store = ctx.store
    store.config.check_user(to)
    if to == ctx.actor.id:
        raise RefusedError("a handover is to someone else (--to is you)")
    equipment = workflow.need_text(equipment, "--equipment")
    note = (note or "").strip() or None
    moment = workflow.not_future(at, ctx.now)
    day = day_of(ctx, moment)
    items = open_items(store, ctx.actor.id, moment, store.config.lang)
    # a minutes-scale task of this shift blocks the handover; one missed long ago is listed
    # with the items (overdue) but cannot hold the desk hostage
    urgent = [(item["id"], u.rule, stamp(u.due_at)) for item in items for u in item["urgent"]
              if u.due_at > moment - duty.SHIFT]
    if urgent:
        listed = "; ".join(f"{case} {rule} due {due[11:16]}" for case, rule, due in urgent)
        raise RefusedError(f"important unfinished work may not be handed over (重要的工作未完成不得交接): {listed}; "
                           "do it (svc met) first")
    kept = [{k: v for k, v in item.items() if k != "urgent" and v is not None} for item in items]
    event = workflow.event("handover", moment, ctx.actor.id, to=to, equipment=equipment, note=note, items=kept)
    number: list[int] = []

    _, last_night = duty.read_day(store, day - dt.timedelta(days=1))
    earlier = duty.handovers(plain(last_night["history"])) if last_night is not None else []

    def count(history: list[dict[str, Any]]) -> None:
        waiting = [h for h in earlier + duty.handovers(history) if h.accepted is None]
        if waiting:
            first = waiting[0]
            raise RefusedError(f"handover {first.number} from {first.by} to {first.to} is not accepted yet; "
                               f"{first.to} runs svc handover accept first")
        number.append(len(duty.handovers(history)) + 1)

    items_said = f"{len(kept)} item" + ("" if len(kept) == 1 else "s")
    _append(ctx, day, event, f"duty {day.isoformat()}: handover from {ctx.actor.id} to {to}, {items_said}",
            "handover", count)
    return day, number[0], kept


def accept(ctx: Context, day: dt.date | None, equipment: str | None, note: str | None) -> tuple[dt.date, int]:
    """The incoming person confirms the handover made to them (today's, else yesterday's:
    a night shift is handed over after midnight)."""
    store = ctx.store
    today = day_of(ctx, ctx.now)
    days = [day] if day is not None else [today, today - dt.timedelta(days=1)]
    for candidate in days:
        _, node = duty.read_day(store, candidate)
        if node is None:
            continue
        waiting = duty.pending_for(plain(node["history"]), ctx.actor.id)
        if waiting:
            target = waiting[-1]
            break
    else:
        raise NotFoundError(f"no handover to {ctx.actor.id} waiting to be accepted")
    equipment = (equipment or "").strip() or None
    note = (note or "").strip() or None
    event = workflow.event("accept", ctx.now, ctx.actor.id, handover=target.number, handover_seal=target.seal,
                           equipment=equipment, note=note)

    def still_waiting(history: list[dict[str, Any]]) -> None:
        if not [h for h in duty.pending_for(history, ctx.actor.id) if h.seal == target.seal]:
            raise RefusedError(f"handover {target.number} of {candidate.isoformat()} was accepted meanwhile")

    _append(ctx, candidate, event, f"duty {candidate.isoformat()}: handover {target.number} accepted by "
                    f"{ctx.actor.id}", "handover-accept", still_waiting)
    return candidate, target.number
