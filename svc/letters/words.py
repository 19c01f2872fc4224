"""The few words letters print themselves (the rest is in the templates)."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "draft-number": "草稿（未编号）",
        "draft-mark": "草稿",
        "draft-banner": "草稿 · 未编号 · 未登记 · 不得对外发出",
        "page": "— {n} —",
    },
    "en": {
        "draft-number": "DRAFT (no number)",
        "draft-mark": "DRAFT",
        "draft-banner": "DRAFT · not numbered · not registered · not to be sent",
        "page": "— {n} —",
    },
}


def word(lang: str, key: str, **values: object) -> str:
    text = WORDS.get(lang, WORDS["zh"])[key]
    return text.format(**values) if values else text
