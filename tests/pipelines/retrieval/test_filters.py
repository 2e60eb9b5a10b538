"""Searches limited by metadata filters and by the caller's groups, checked against a brute-force ranking
over random group assignments."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import Retrieve
from pipelines.retrieval import Passage, VectorStore, caller_groups
from pipelines.retrieval.filters import with_caller_groups

TEXTS = ["Paid leave is 25 days a year.", "Deploys happen on Tuesdays.", "The canteen opens at noon.",
         "Salaries are paid on the last working day.", "The VPN is needed for the wiki.",
         "Laptops are replaced every three years.", "Parking permits are issued by facilities.",
         "On-call engineers get a weekly allowance.", "Expenses are filed within thirty days.",
         "The security team reviews every new vendor."]
GROUPS = ["hr", "eng", "finance"]
QUERIES = ["When are salaries paid?", "How often are laptops replaced?", "What does on-call pay?"]


@pytest.fixture(scope="module")
def embedded():
    store = VectorStore.build([Passage(f"d{index}#0", f"Doc {index}", text) for index, text in enumerate(TEXTS)],
                              progress=False)
    return store.vectors(), store.embedder.encode(QUERIES)


def _store(vectors, assignment):
    passages = [Passage(f"d{index}#0", f"Doc {index}", text, {"groups": groups, "source": f"s{index % 2}"})
                for index, (text, groups) in enumerate(zip(TEXTS, assignment, strict=True))]
    return VectorStore.from_vectors(passages, vectors)


def _visible(passage, caller):
    own = passage.metadata["groups"]
    return not own or bool(set(own) & set(caller))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assignment=st.lists(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True), min_size=len(TEXTS),
                           max_size=len(TEXTS)),
       caller=st.lists(st.sampled_from(GROUPS), max_size=2, unique=True), k=st.integers(1, 5))
def test_a_caller_gets_the_nearest_passages_it_may_see_and_never_another(embedded, assignment, caller, k):
    vectors, queries = embedded
    store = _store(vectors, assignment)
    with caller_groups(caller):
        found = store.search_vectors(queries, k)
    for query, hits in zip(queries, found, strict=True):
        allowed = [index for index, passage in enumerate(store.passages) if _visible(passage, caller)]
        expected = sorted(allowed, key=lambda index: -float(vectors[index] @ query))[:k]
        assert [hit.passage.id for hit in hits] == [f"d{index}#0" for index in expected]


def test_a_filter_narrows_the_callers_groups_but_never_widens_them(embedded):
    vectors, queries = embedded
    store = _store(vectors, [["hr"], ["eng"]] + [[] for _ in TEXTS[2:]])
    assert {hit.passage.id for hit in store.search_vectors(queries[:1], 10, {"groups": ["eng"]})[0]} == \
        {f"d{index}#0" for index in range(1, len(TEXTS))}
    with caller_groups(["hr"]):
        assert "d1#0" not in {hit.passage.id for hit in store.search_vectors(queries[:1], 10, {"groups": ["eng"]})[0]}
        assert with_caller_groups({"groups": ["eng", "hr"]}) == (("groups", ("hr",)),)
    only = store.search_vectors(queries[:1], 10, {"source": "s1"})[0]
    assert {hit.passage.id for hit in only} == {f"d{index}#0" for index in range(1, len(TEXTS), 2)}


def test_retrieve_inside_a_callers_block_sees_only_what_its_groups_may_see(embedded):
    vectors, _ = embedded
    store = _store(vectors, [["hr"]] + [["eng"] for _ in TEXTS[1:]])
    retrieve = Retrieve(store, k=10)
    with caller_groups(["hr"]):
        assert retrieve("leave").passage_ids == ["d0#0"]
    with caller_groups([]):
        assert retrieve("leave").passage_ids == []


@pytest.mark.parametrize("bad", [{"groups": [1]}, {"source": None}, ["hr"]])
def test_a_malformed_filter_is_named(embedded, bad):
    vectors, queries = embedded
    with pytest.raises(ValueError, match="filter"):
        _store(vectors, [[] for _ in TEXTS]).search_vectors(queries, 1, bad)
