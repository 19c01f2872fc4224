"""Arguments and environment values that are not UTF-8, refused before any command runs.

A terminal in another encoding (GBK, Big5) hands Python bytes it cannot decode; they
arrive as lone surrogates (`\\udcd5`), which no record, JSON writer or git message can
carry. svc refuses them with exit 2 (a usage error: the command line itself is bad)
and says which option and how to fix the terminal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

_SURROGATE = re.compile("[\ud800-\udfff]")
# every variable svc reads
ENV_NAMES = ("SVC_STORE", "SVC_USER", "SVC_NOW", "SVC_DESK")

_SAID = {
    "zh": "{what} 不是有效的 UTF-8 文本（终端用的是其他编码，如 GBK）；请改用 UTF-8 终端"
          "（或设置 LANG=zh_CN.UTF-8）后重新输入；未做任何更改",
    "en": "{what} is not valid UTF-8 text (the terminal uses another encoding, such as GBK); use a "
          "UTF-8 terminal (or set LANG=zh_CN.UTF-8) and type it again; nothing changed",
}
_WHAT = {
    "zh": {"option": "选项 {name} 的值", "argument": "第 {n} 个参数", "env": "环境变量 {name}"},
    "en": {"option": "the value of {name}", "argument": "argument {n}", "env": "environment variable {name}"},
}


def _bad(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def first_bad(args: Sequence[str], environ: Mapping[str, str]) -> tuple[str, str, str | int] | None:
    """The first argument or svc variable that is not UTF-8: ("option", "--customer", ""),
    ("argument", "", 3) or ("env", "SVC_USER", ""); None when all are."""
    for name in ENV_NAMES:
        if _bad(environ.get(name) or ""):
            return ("env", name, "")
    for i, arg in enumerate(args):
        if not _bad(arg):
            continue
        if arg.startswith("--") and "=" in arg and not _bad(arg.split("=", 1)[0]):
            return ("option", arg.split("=", 1)[0], "")
        previous = args[i - 1] if i else ""
        if previous.startswith("-") and "=" not in previous and len(previous) > 1:
            return ("option", previous, "")
        return ("argument", "", i + 1)
    return None


def message(found: tuple[str, str, str | int], lang: str | None) -> str:
    """One line in the store's language; in both when it is not known."""
    kind, name, n = found

    def said(lang: str) -> str:
        return _SAID[lang].format(what=_WHAT[lang][kind].format(name=name, n=n))

    if lang in _SAID:
        return said(lang)
    return f"{said('zh')} / {said('en')}"


_LANG = re.compile(r"^lang:\s*['\"]?(zh|en)\b", re.MULTILINE)


def store_lang(explicit: str | None, cwd: str) -> str | None:
    """The `lang:` of the store the command would use, read without parsing svc.yaml
    (which may itself be what is wrong); None when there is none to read."""
    from svc import boot

    if explicit is not None and _bad(explicit):
        explicit = None
    root = boot.store_root(explicit, cwd)
    if root is None:
        return None
    try:
        with open(os.path.join(root, boot.CONFIG_NAME), encoding="utf-8") as config:
            match = _LANG.search(config.read(65536))
    except (OSError, UnicodeDecodeError):
        return None
    return match.group(1) if match else "zh"
