"""Letter templates: where they are, what they say about themselves, which fields they
need, and rendering one into a `Document` with Jinja in strict mode.

A template is a plain-text file `<lang>/<name>.txt`. The project ships a set; an office
overrides one, or adds its own, by placing a file of the same name in its store:

    <store>/templates/<lang>/<name>.txt      (or <store>/templates/<name>.txt)

It starts with a Jinja comment holding its description as YAML, then the body in the
block format of `svc.letters.blocks`:

    {#
    title: 催办通知单
    style: letter            # letter (GB/T 9704 sizes) or form (tables, smaller text)
    recipient: "{{ branch.name }}"
    about: 第1次追访不满意时发给责任分公司
    #}
    # 催办通知单
    ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svc import schema as s
from svc import yamlio
from svc.errors import RecordError
from svc.letters.blocks import MARK_CLOSE, MARK_OPEN, Block, Document, TemplateError, _text, parse_blocks

SHIPPED = Path(__file__).resolve().parents[1] / "templates"  # svc/templates: the project's templates/
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
STYLES = ("letter", "form")
META_SPEC = s.mapping(
    {"title": s.text(True), "style": s.enum(STYLES, True), "recipient": s.text(True), "about": s.text()}
)
_META = re.compile(r"\A\{#-?(.*?)-?#\}\n?", re.S)

# Fields that come from options rather than the case: a missing one names its option.
OPTION_FIELDS = {
    "letter.subject": "--subject",
    "letter.body": "--body or --body-file",
    "letter.paragraphs": "--body or --body-file",
}


@dataclass(frozen=True)
class TemplateFile:
    name: str
    lang: str
    path: Path
    source: str  # store | shipped


@dataclass(frozen=True)
class Meta:
    title: str
    style: str
    recipient: str
    about: str | None


@dataclass(frozen=True)
class Template:
    file: TemplateFile
    meta: Meta
    body: str  # the source after the description
    body_line: int  # line number of the body's first line in the file

    @property
    def name(self) -> str:
        return self.file.name


def _folders(lang: str, store_root: Path | None) -> list[tuple[Path, str]]:
    folders: list[tuple[Path, str]] = []
    if store_root is not None:
        folders += [(store_root / "templates" / lang, "store"), (store_root / "templates", "store")]
    folders.append((SHIPPED / lang, "shipped"))
    return folders


def find(name: str, lang: str, store_root: Path | None) -> TemplateFile | None:
    if not NAME.match(name):
        return None
    for folder, source in _folders(lang, store_root):
        path = folder / f"{name}.txt"
        if path.is_file():
            return TemplateFile(name, lang, path, source)
    return None


def available(lang: str, store_root: Path | None) -> list[TemplateFile]:
    """Every template for `lang`, the store's winning over the shipped ones of the same name."""
    found: dict[str, TemplateFile] = {}
    for folder, source in _folders(lang, store_root):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.txt")):
            if NAME.match(path.stem) and path.stem not in found:
                found[path.stem] = TemplateFile(path.stem, lang, path, source)
    return sorted(found.values(), key=lambda t: t.name)


_cache: dict[tuple[Path, int, int], Template] = {}


def load(file: TemplateFile) -> Template:
    """Read and check a template file (cached per process while the file is unchanged)."""
    try:
        stat = file.path.stat()
        key = (file.path, stat.st_mtime_ns, stat.st_size)
        if key in _cache:
            return _cache[key]
        text = file.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{file.path}: cannot read the template: {exc}") from None
    text = text.replace("\r\n", "\n")
    if MARK_OPEN in text or MARK_CLOSE in text:
        raise TemplateError(f"{file.path}: contains the private characters U+E000/U+E001, which svc reserves")
    match = _META.match(text)
    if not match:
        raise TemplateError(f"{file.path}:1: a template starts with a {{# ... #}} comment holding its title, "
                            "style and recipient (see the README, Letters)")
    try:
        node = yamlio.loads(match.group(1), str(file.path))
    except RecordError as exc:
        raise TemplateError(str(exc)) from None
    problems = s.check_root(node, META_SPEC, str(file.path))
    if problems:
        raise TemplateError(str(problems[0]))
    meta = Meta(str(node["title"]), str(node["style"]), str(node["recipient"]),
                str(node["about"]) if node.get("about") else None)
    template = Template(file, meta, text[match.end():], text[:match.end()].count("\n") + 1)
    _compiled(template)  # a syntax error shows now, with its line
    _cache[key] = template
    return template


# --- Jinja -----------------------------------------------------------------------------------

class Value(str):
    """A field's text that remembers which field it is (for messages)."""

    source: str

    def __new__(cls, text: str, source: str) -> "Value":
        value = super().__new__(cls, text)
        value.source = source
        return value


class Fields(dict):  # type: ignore[type-arg]
    """A group of fields (`customer`, `case`, ...) that knows its own path."""

    def __init__(self, path: str, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.path = path


class Rows(list):  # type: ignore[type-arg]
    def __init__(self, path: str, rows: list[Any]) -> None:
        super().__init__(rows)
        self.path = path


def wrap(path: str, value: Any) -> Any:
    """Plain data as Fields, Rows and Values; empty values are left out, so that a
    template that prints one gets an error naming the field rather than a blank."""
    if isinstance(value, dict):
        return Fields(path, {str(k): wrap(f"{path}.{k}" if path else str(k), v)
                             for k, v in value.items() if v not in (None, "", [], {})})
    if isinstance(value, (list, tuple)):
        return Rows(path, [wrap(f"{path}[{i + 1}]", v) for i, v in enumerate(value)])
    if isinstance(value, (bool, int, float)):
        return value
    return Value(str(value), path)


_env: Any = None


def _environment() -> Any:
    global _env
    if _env is not None:
        return _env
    import jinja2

    class Missing(jinja2.StrictUndefined):
        @property
        def _undefined_message(self) -> str:
            owner = self._undefined_obj
            name = self._undefined_name
            if isinstance(owner, (Fields, Rows)):
                path = f"{owner.path}.{name}" if isinstance(name, str) else f"{owner.path}[{name}]"
            elif owner is jinja2.utils.missing:
                path = str(name)
            else:
                return str(super()._undefined_message)
            hint = OPTION_FIELDS.get(path)
            return f"missing field {path}" + (f" (give {hint})" if hint else "")

    class Environment(jinja2.Environment):
        # Fields are looked up as keys only, so a field named `items` or `path` is a field.
        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, Fields):
                return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            if isinstance(obj, Fields):
                key = str(argument)
                return obj[key] if key in obj else self.undefined(obj=obj, name=key)
            return super().getitem(obj, argument)

    @jinja2.pass_context
    def finalize(context: Any, value: Any) -> str:
        values: list[tuple[str, str | None]] = context.get("__values__")
        if isinstance(value, (Fields, Rows)):
            raise TemplateError(f"the template prints {value.path or 'a group'} as a whole; "
                                f"print one of its fields, such as {value.path}.name")
        source = value.source if isinstance(value, Value) else None
        values.append((str(value), source))
        return f"{MARK_OPEN}{len(values) - 1}{MARK_CLOSE}"

    _env = Environment(undefined=Missing, finalize=finalize, autoescape=False, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=False, auto_reload=False, cache_size=0)
    return _env


_compiled_cache: dict[tuple[str, str], Any] = {}


def _compiled(template: Template) -> Any:
    key = (str(template.file.path), template.body)
    compiled = _compiled_cache.get(key)
    if compiled is None:
        import jinja2

        # Leading blank lines keep Jinja's line numbers equal to the file's.
        source = "\n" * (template.body_line - 1) + template.body
        try:
            compiled = _environment().from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{template.file.path}:{exc.lineno}: {exc.message}") from None
        _compiled_cache[key] = compiled
    return compiled


def _run(template: Template, compiled: Any, context: dict[str, Any]) -> tuple[str, list[tuple[str, str | None]]]:
    import jinja2

    values: list[tuple[str, str | None]] = []
    try:
        output = compiled.render({**context, "__values__": values})
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_where(template, exc)}: {exc.message}") from None
    except (TemplateError, jinja2.TemplateError, TypeError, ValueError) as exc:
        raise TemplateError(f"{_where(template, exc)}: {exc}") from None
    return output, values


def _where(template: Template, exc: BaseException) -> str:
    """`template urging-notice (path:line)`: the template line Jinja was running."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    place = f"{template.file.path}:{line}" if line else str(template.file.path)
    return f"template {template.name} ({place})"


def recipient(template: Template, context: dict[str, Any]) -> str:
    """The template's default recipient, as text."""
    key = (str(template.file.path), "recipient:" + template.meta.recipient)
    compiled = _compiled_cache.get(key)
    if compiled is None:
        import jinja2

        try:
            compiled = _environment().from_string(template.meta.recipient)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{template.file.path}: recipient: {exc.message}") from None
        _compiled_cache[key] = compiled
    output, values = _run(template, compiled, context)
    return _text(output, values, template.name).plain.strip()


def render(template: Template, context: dict[str, Any], draft: bool, number: str | None,
           author: str) -> Document:
    output, values = _run(template, _compiled(template), context)
    blocks = parse_blocks(output, values, template.name)
    title = next((b.text.plain for b in blocks if isinstance(b, Block) and b.kind == "title"), template.meta.title)
    return Document(template.name, template.file.lang, template.meta.style, title, blocks, draft, number, author)


# --- which fields a template needs -------------------------------------------------------------

@dataclass(frozen=True)
class FieldUse:
    path: str
    optional: bool


def fields(template: Template) -> list[FieldUse]:
    """The dotted fields a template reads (loops shown as `history[].at`), each marked
    optional when the template gives a default or tests `is defined`."""
    from jinja2 import nodes

    found: dict[str, bool] = {}
    tree = _environment().parse(template.body)
    recipient_tree = _environment().parse(template.meta.recipient)

    def path_of(node: Any, scope: dict[str, str]) -> str | None:
        parts: list[str] = []
        while isinstance(node, (nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Getattr):
                parts.append(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                parts.append(node.arg.value)
            else:
                return None
            node = node.node
        if not isinstance(node, nodes.Name) or node.name in ("loop", "__values__"):
            return None
        root = scope.get(node.name, node.name)
        return ".".join([root, *reversed(parts)])

    def note(path: str | None, optional: bool) -> None:
        if path and not path.startswith("__"):
            found[path] = found.get(path, False) or optional

    def walk(node: Any, scope: dict[str, str], optional: bool = False) -> None:
        if isinstance(node, nodes.For):
            walk(node.iter, scope, optional)
            inner = dict(scope)
            target = path_of(node.iter, scope)
            if isinstance(node.target, nodes.Name) and target:
                inner[node.target.name] = target + "[]"
            for child in (*node.body, *node.else_):
                walk(child, inner, optional)
            if node.test is not None:
                walk(node.test, inner, optional)
            return
        if isinstance(node, (nodes.Getattr, nodes.Getitem, nodes.Name)):
            path = path_of(node, scope)
            if path is not None:
                if path.endswith("[]"):
                    return
                # a field used only as the owner of a deeper field is not itself listed
                note(path, optional)
                return
        if isinstance(node, nodes.Assign):
            walk(node.node, scope, optional)
            for name in node.target.find_all(nodes.Name):
                scope[name.name] = "__local"
            return
        if isinstance(node, nodes.Filter) and node.name in ("default", "d"):
            if node.node is not None:
                walk(node.node, scope, True)
            for arg in node.args:
                walk(arg, scope, optional)
            return
        if isinstance(node, nodes.Test) and node.name in ("defined", "undefined", "none"):
            walk(node.node, scope, True)
            return
        for child in node.iter_child_nodes():
            walk(child, scope, optional)

    walk(recipient_tree, {})
    walk(tree, {})
    # `customer.name` makes `customer` implied: list only the leaves
    leaves = [p for p in found if not any(q.startswith(p + ".") or q.startswith(p + "[") for q in found)]
    return [FieldUse(p, found[p]) for p in sorted(leaves)]


