"""`render.simple_table` prints exactly what tabulate's "simple" format prints for the
text tables of `svc list` and `svc due` (it exists only to be fast on big agendas)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from svc.render import simple_table

# printable single-line text: Latin, CJK (two columns wide), punctuation, inner spaces
TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ019-:./ 张三李四漏水维修，。（）!分公司")), max_size=12)


@settings(max_examples=300, deadline=None)
@given(heads=st.lists(TEXT, min_size=1, max_size=6), data=st.data())
def test_simple_table_matches_tabulate(heads: list[str], data: st.DataObject) -> None:
    body = data.draw(st.lists(st.lists(TEXT, min_size=len(heads), max_size=len(heads)), max_size=8))
    expected = tabulate(body, headers=heads, tablefmt="simple", disable_numparse=True)
    assert simple_table(body, heads) == expected


def test_an_agenda_row_and_an_empty_table() -> None:
    heads = ["", "截止", "编号", "事项", "依据", "负责人", "分公司"]
    body = [["!", "2023-11-24 14:36", "C2311-A017", "3分钟内回拨客户", "callback-3min", "", ""]]
    assert simple_table(body, heads) == tabulate(body, headers=heads, tablefmt="simple", disable_numparse=True)
    assert simple_table([], heads) == tabulate([], headers=heads, tablefmt="simple", disable_numparse=True)
