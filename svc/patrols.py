"""Patrol records (巡查记录): one file per patrol, with the checklist results and the
findings, each followed from discovery to a verified fix (DOMAIN.md, "Patrols").

A finding is settled on the spot, or routed: to a repair case (opened and linked), to
another department, or to renovation management as a resident's violation. It must be
fixed within 7 days (patrol-fix-7d) unless a manager extends it with a reason; someone
then verifies the fix on site. Like cases, the findings' state is what replaying the
history gives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from svc import schema as s
from svc.errors import RefusedError
from svc.model import ReplayError, View

CATEGORIES = ("security", "facilities", "cleanliness", "landscaping", "renovation", "fire", "residents", "other")
ROUTES = ("repair", "department", "violation")
RESULTS = ("ok", "problem", "skipped")
MANAGER_ROLES = ("supervisor", "cs-director", "center-director", "admin")

# The default checklist (DOMAIN.md); an office sets its own under `patrol: checklist:` in svc.yaml.
DEFAULT_CHECKLIST = (
    "水电表",
    "楼梯间（灯、门、墙面、消防栓、灭火器、防火门、疏散标志）",
    "消防通道及天台",
    "电梯",
    "大堂及走廊",
    "室外管线",
    "康乐设施及儿童游乐场",
    "道路、广场、井盖及照明",
    "停车场及单车棚",
    "周边环境（乱张贴、噪音、高空抛物、饲养家禽）",
    "空置房（门窗、水龙头、灯、有无人留宿）",
)


PATROL_EVENTS: dict[str, dict[str, s.Spec]] = {
    "patrol": {},
    "finding": {"no": s.integer(True, 1), "category": s.enum(CATEGORIES, True), "place": s.text(True),
                "description": s.text(True), "settled": s.text(), "due": s.time()},
    "route": {"no": s.integer(True, 1), "to": s.enum(ROUTES, True), "department": s.text(), "case": s.text()},
    "extend": {"no": s.integer(True, 1), "due": s.time(True), "reason": s.text(True)},
    "fixed": {"no": s.integer(True, 1), "note": s.text()},
    "verified": {"no": s.integer(True, 1), "note": s.text()},
    "note": {"text": s.text(True)},
}

FINDING_SPEC = s.mapping(
    {
        "no": s.integer(True, 1),
        "category": s.enum(CATEGORIES, True),
        "place": s.text(True),
        "description": s.text(True),
        "status": s.enum(("settled", "open", "fixed", "verified"), True),
        "route": s.enum(ROUTES),
        "department": s.text(),
        "case": s.text(),
        "due": s.time(),
        "fixed_at": s.time(),
        "fixed_by": s.text(),
        "verified_at": s.time(),
        "verified_by": s.text(),
    }
)

PATROL_SPEC = s.mapping(
    {
        "id": s.text(True),
        "area": s.text(True),
        "patrolled_at": s.time(True),
        "patroller": s.text(True),
        "checklist": s.seq(s.mapping({"item": s.text(True), "result": s.enum(RESULTS, True), "note": s.text()})),
        "findings": s.seq(FINDING_SPEC),
        "history": s.seq(s.keyed(s.Spec("any")), True),
    }
)
PATROL_KEYS = tuple(PATROL_SPEC.fields)


def check_patrol_node(node: Any, path: str) -> list[s.Problem]:
    return s.check_record(node, PATROL_SPEC, PATROL_EVENTS, path)


def replay_patrol(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings as the history gives them."""
    if not history or history[0].get("action") != "patrol":
        raise ReplayError(0, "the first event of a patrol record must be 'patrol'")
    findings: dict[int, dict[str, Any]] = {}
    for i, event in enumerate(history[1:], start=1):
        action = event["action"]
        if action == "patrol":
            raise ReplayError(i, "a second 'patrol' event")
        if action == "note":
            continue
        no = int(event["no"])
        if action == "finding":
            if no in findings or no != len(findings) + 1:
                raise ReplayError(i, f"finding {no} out of order (expected {len(findings) + 1})")
            entry = {k: event[k] for k in ("category", "place", "description")}
            if event.get("settled"):
                findings[no] = {"no": no, **entry, "status": "settled"}
            else:
                findings[no] = {"no": no, **entry, "status": "open", "due": event.get("due")}
            continue
        finding = findings.get(no)
        if finding is None:
            raise ReplayError(i, f"{action} of finding {no}, which does not exist")
        if action == "route":
            if finding["status"] != "open" or finding.get("route"):
                raise ReplayError(i, f"finding {no} is {finding.get('route') or finding['status']} already")
            finding["route"] = event["to"]
            for key in ("department", "case"):
                if event.get(key):
                    finding[key] = event[key]
        elif action == "extend":
            if finding["status"] != "open":
                raise ReplayError(i, f"extension of finding {no}, which is {finding['status']}")
            finding["due"] = event["due"]
        elif action == "fixed":
            if finding["status"] != "open":
                raise ReplayError(i, f"finding {no} fixed but it is {finding['status']}")
            finding.update(status="fixed", fixed_at=event["at"], fixed_by=event["by"])
        elif action == "verified":
            if finding["status"] != "fixed":
                raise ReplayError(i, f"finding {no} verified before it was fixed")
            finding.update(status="verified", verified_at=event["at"], verified_by=event["by"])
    return [{k: v for k, v in f.items() if v is not None} for _, f in sorted(findings.items())]


class Patrol(View):

    @property
    def patrolled_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.fields["patrolled_at"])

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.fields.get("findings") or []

    @property
    def last_event_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.fields["history"][-1]["at"])

    def finding(self, no: int) -> dict[str, Any]:
        for item in self.findings:
            if item["no"] == no:
                return item
        raise RefusedError(f"{self.id} has no finding {no} (it has {len(self.findings)})")


def checklist(items: tuple[str, ...], problems: list[str], skipped: list[str]) -> list[dict[str, str]]:
    """Checklist results: every item ok unless named as a problem or skipped."""
    unknown = [name for name in (*problems, *skipped) if not any(name == item or item.startswith(name) for item in items)]
    if unknown:
        raise RefusedError(f"not on the patrol checklist: {', '.join(unknown)} (items: {'; '.join(items)})")

    def result(item: str) -> str:
        if any(item == n or item.startswith(n) for n in problems):
            return "problem"
        if any(item == n or item.startswith(n) for n in skipped):
            return "skipped"
        return "ok"

    return [{"item": item, "result": result(item)} for item in items]
