"""What a request to a served program must hold: checked before any LM call, each problem named."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.requests import MAX_TEXT_CHARS, Params, RequestError, rows


def test_rows_accept_a_dataframe_records_and_columns():
    expected = [{"question": "Who?"}, {"question": "Where?"}]
    assert rows(pd.DataFrame({"question": ["Who?", "Where?"]}), ["question"]) == expected
    assert rows([{"question": "Who?"}, {"question": "Where?"}], ["question"]) == expected
    assert rows({"question": ["Who?", "Where?"]}, ["question"]) == expected


@pytest.mark.parametrize(("table", "message"), [
    (pd.DataFrame({"query": ["Who?"]}), r"missing input column\(s\) \['question'\]"),
    (pd.DataFrame({"question": ["  "]}), "field 'question' of row 0 is empty"),
    (pd.DataFrame({"question": ["ok", 3]}), "field 'question' of row 1 must be text, got int"),
    (pd.DataFrame({"question": ["x" * (MAX_TEXT_CHARS + 1)]}), f"the limit is {MAX_TEXT_CHARS}"),
    (pd.DataFrame({"question": []}), "the request has no rows"),
    ("Who?", "expected a table of inputs"),
])
def test_bad_tables_name_the_problem(table, message):
    with pytest.raises(RequestError, match=message):
        rows(table, ["question"])


def test_params_default_and_range_checks():
    assert Params.read(None, default_k=5) == Params(k=5, max_tokens=1000, temperature=0.0)
    assert Params.read({"k": 2, "temperature": 0.5}, default_k=3) == Params(k=2, max_tokens=1000, temperature=0.5)
    with pytest.raises(RequestError, match="param 'k' must be between 1 and 20, got 50"):
        Params.read({"k": 50}, default_k=3)
    with pytest.raises(RequestError, match="param 'max_tokens' must be a whole number"):
        Params.read({"max_tokens": "many"}, default_k=3)
    with pytest.raises(RequestError, match=r"unknown param\(s\) \['top_k'\]"):
        Params.read({"top_k": 1}, default_k=3)


def test_groups_are_a_list_of_names_and_default_to_none():
    assert Params.read(None, default_k=3).groups == ()
    assert Params.read({"groups": ["hr", "eng"]}, default_k=3).groups == ("hr", "eng")
    for bad in ("hr", [""], [3], {"hr": 1}, ["g"] * 101):
        with pytest.raises(RequestError, match="param 'groups' "):
            Params.read({"groups": bad}, default_k=3)


_CELLS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20) | st.lists(
    st.integers(), max_size=3) | st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)


@settings(deadline=2000, max_examples=200)
@given(st.one_of(
    st.lists(st.dictionaries(st.sampled_from(["question", "query", "", "k"]), _CELLS, max_size=3), max_size=4),
    st.dictionaries(st.sampled_from(["question", "context", "x"]), st.lists(_CELLS, max_size=3), max_size=2),
    _CELLS))
def test_any_table_gives_rows_or_a_request_error(table):
    try:
        found = rows(table, ["question"])
    except RequestError:
        return
    assert all(set(row) == {"question"} and isinstance(row["question"], str) and row["question"].strip()
               for row in found)


@settings(deadline=2000, max_examples=200)
@given(st.one_of(st.none(), st.dictionaries(st.sampled_from(["k", "max_tokens", "temperature", "groups", "top_p"]),
                                            _CELLS, max_size=3)))
def test_any_params_give_settings_in_range_or_a_request_error(given):
    try:
        params = Params.read(given, default_k=3)
    except RequestError:
        return
    assert 1 <= params.k <= 20 and 1 <= params.max_tokens <= 4096 and 0.0 <= params.temperature <= 2.0
    assert all(isinstance(group, str) and group.strip() for group in params.groups)


def test_any_input_name_is_a_field_even_one_pydantic_uses_itself():
    names = ["model_config", "_private", "json"]
    assert rows(pd.DataFrame({name: ["text"] for name in names}), names) == [dict.fromkeys(names, "text")]
    with pytest.raises(RequestError, match="field 'model_dump' of row 0 is empty"):
        rows(pd.DataFrame({"model_dump": [" "]}), ["model_dump"])
