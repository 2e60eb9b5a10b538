"""How labelled training examples become demos of a program's predictors, for every optimizer that shows
labels (LabeledFewShot, BootstrapFewShot's labelled demos, MIPRO's demo sets, KNNFewShot's pools).

An example is a demo of a step whose outputs it labels, at least one of them (a query-writing step gets no
demo from a question and its answer: its turn would be empty). An agent's steps take instead the
trajectories of the examples that label their calls (`ReAct.demonstrate`), run once per example."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.modules import Module, Predictor, ReAct
from pipelines.modules.react import ANSWER_STEP, CALLS, STEP
from pipelines.primitives import Example


class LabelledDemos:
    def __init__(self, program: Module):
        self._agents = [("" if path == "self" else f"{path}.", agent) for path, agent in program.named_modules(ReAct)]
        self._demonstrated: dict[tuple[int, str], dict[str, list[Example]]] = {}

    def of(self, name: str, predictor: Predictor, examples: Sequence[Example]) -> list[Example]:
        """The demos `examples` make of the predictor called `name`, in the examples' order."""
        for prefix, agent in self._agents:
            if name.startswith(prefix) and name.removeprefix(prefix) in (STEP, ANSWER_STEP):
                return [demo for example in examples if CALLS in example
                        for demo in self._demonstrate(agent, example)[name.removeprefix(prefix)]]
        outputs = predictor.signature.output_fields
        return [example for example in examples if any(field in example for field in outputs)]

    def _demonstrate(self, agent: ReAct, example: Example) -> dict[str, list[Example]]:
        key = (id(agent), example.example_id)
        if key not in self._demonstrated:
            self._demonstrated[key] = agent.demonstrate(example)
        return self._demonstrated[key]
