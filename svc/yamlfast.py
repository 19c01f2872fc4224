"""The fast half of `yamlio`: bulk reads through PyYAML's libyaml binding, with the same
rules as the round-trip reader. Imported only when a command reads many records (or a
few to decide something), so that a write does not pay for PyYAML's import.
"""

from __future__ import annotations

from typing import Any

from svc import yamlio
from svc.yamlguard import may_be_irregular, refuse_irregular
from svc.yamlio import _NULL

# ruamel's pure-Python scanner costs ~8 ms for a case file; PyYAML's libyaml binding reads
# the same file in under 1 ms. Listing and checking many records read through it with the
# same rules (text scalars, null only, duplicate keys refused); a file with any problem is
# read again through ruamel for exact line numbers, and all writing stays round-trip.
try:
    import yaml as _pyyaml
    from yaml.constructor import ConstructorError as _ConstructorError
    from yaml.constructor import SafeConstructor as _SafeConstructor
    from yaml.cyaml import CParser as _CParser
    from yaml.resolver import BaseResolver as _PyBaseResolver
except ImportError:  # no libyaml: every read goes through ruamel
    _FastLoader = None
else:

    class _FastResolver(_PyBaseResolver):
        pass

    _FastResolver.add_implicit_resolver(_NULL[0], _NULL[1], list("~nN") + [""])

    class _FastConstructor(_SafeConstructor):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node.value, str):  # a list or mapping as a key: ruamel words it
                    raise _ConstructorError(None, None, "found a complex key", key_node.start_mark)
                if key_node.value in seen:
                    raise _ConstructorError(None, None, f"found duplicate key \"{key_node.value}\"",
                                            key_node.start_mark)
                seen.add(key_node.value)
            return super().construct_mapping(node, deep)

    class _FastLoader(_CParser, _FastConstructor, _FastResolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _FastConstructor.__init__(self)
            _FastResolver.__init__(self)


    _STR = "tag:yaml.org,2002:str"
    _MAP = "tag:yaml.org,2002:map"
    _SEQ = "tag:yaml.org,2002:seq"
    _NULLS = frozenset(("", "~", "null", "Null", "NULL"))  # what _NULL matches
    from yaml.nodes import ScalarNode as _ScalarNode
    from yaml.nodes import SequenceNode as _SequenceNode

    class _NodeReader(_CParser):
        """libyaml's parser and composer with the resolver cut to what a record uses:
        a plain scalar is null or text. Turning the nodes into values is `_value`, a
        walk that is several times cheaper than PyYAML's general constructor."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is _ScalarNode:
                return _NULL[0] if implicit[0] and value in _NULLS else _STR
            return _SEQ if kind is _SequenceNode else _MAP

        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass  # no path resolvers

        def ascend_resolver(self) -> None:
            pass

    class _Irregular(Exception):
        """A tag, key or alias the walk leaves to the general constructor."""

    def _value(node: Any) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _MAP:
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key_node.tag != _STR or key in out:
                    raise _Irregular
                out[key] = _value(value_node)
            return out
        if tag == _SEQ:
            return [_value(item) for item in node.value]
        if tag == _NULL[0] and type(node) is _ScalarNode:
            return None
        raise _Irregular


def loads(text: str, path: str) -> Any:
    """Parse like `loads`, faster, as plain dicts and lists without line information."""
    if _FastLoader is None:
        return yamlio.loads(text, path)
    if may_be_irregular(text):  # a few string searches; most files end here
        refuse_irregular(text, path)
    try:
        node = _NodeReader(text).get_single_node()
        return None if node is None else _value(node)
    except (_Irregular, RecursionError, _pyyaml.YAMLError):
        pass  # explicit tags, duplicate keys, aliases, errors: the general path words them
    try:
        return _pyyaml.load(text, Loader=_FastLoader)
    except _pyyaml.YAMLError:
        return yamlio.loads(text, path)  # ruamel words the error, with its line
