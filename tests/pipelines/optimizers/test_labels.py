from pipelines import Example, Module, Predict, ReAct
from pipelines.optimizers import KNNFewShot, LabeledFewShot
from pipelines.optimizers.labels import LabelledDemos


def search(query: str) -> str:
    """Find passages."""
    return f"about {query}"


class Searcher(Module):
    def __init__(self):
        self.rewrite = Predict("question -> query")
        self.agent = ReAct("question -> answer", [search])

    def forward(self, question):
        return self.agent(question=self.rewrite(question=question).query)


CALLS = [{"thought": "look it up", "tool": "search", "arguments": {"query": "cats"}}]
LABELLED = Example(question="where do cats live?", answer="Rome", calls=CALLS).with_inputs("question")
PLAIN = Example(question="where do dogs live?", answer="Oslo").with_inputs("question")


def test_an_example_is_a_demo_only_of_the_steps_whose_outputs_it_labels():
    program = Searcher()
    labels = LabelledDemos(program)
    predictors = dict(program.named_predictors())
    assert labels.of("rewrite", predictors["rewrite"], [LABELLED, PLAIN]) == []
    steps = labels.of("agent.step", predictors["agent.step"], [LABELLED, PLAIN])
    assert [demo.next_tool_name for demo in steps] == ["search", "finish"]
    answers = labels.of("agent.extract.predict", predictors["agent.extract.predict"], [PLAIN, LABELLED])
    assert [demo.answer for demo in answers] == ["Rome"]


def test_labeled_few_shot_shows_an_agent_its_labelled_trajectories():
    compiled = LabeledFewShot(k=2).compile(Searcher(), [LABELLED, PLAIN])
    assert [demo.next_tool_name for demo in compiled.agent.step.demos] == ["search", "finish"]
    assert compiled.rewrite.demos == []


def test_knn_pools_hold_an_agents_labelled_steps_keyed_by_the_question():
    compiled = KNNFewShot(k=2).compile(ReAct("question -> answer", [search]), [LABELLED, PLAIN])
    pool = compiled.step.demo_pool
    assert compiled.step.demo_pool is not None and len(pool.demos) == 2
    nearest = pool.nearest({"question": "where do cats sleep?", "trajectory": "(no steps yet)"})
    assert {demo.next_tool_name for demo in nearest} == {"search", "finish"}
