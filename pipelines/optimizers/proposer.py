"""Candidate instructions per predictor, written by the LM and grounded as in MIPRO: a summary of the
training data, a description of the program, demos of the step done right, and a randomly drawn tip.
The predictor's own instruction is always kept as candidate 0. A proposal that speaks of what it was shown
rather than of the task ("Summarize the examples into a summary ...", "the program") is discarded before it
costs a trial: a small model writes those often, and they describe no task; so is a copy of the tip it was
given ("Start the instruction with a persona suited to the task, ..."), one that copies a run of words from
an example it was shown (an instruction for one question, "Answer the question \"What is ...?\""), and one
that loops (the same run of words again and again, to the length limit)."""

from __future__ import annotations

import logging
import random
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines import adapter, prompts
from pipelines.fieldtypes import render
from pipelines.lm.client import LM
from pipelines.lm.errors import BudgetExceeded, LMError
from pipelines.modules import Module, Predict
from pipelines.parallel import parallel_map
from pipelines.primitives import Example
from pipelines.signatures import Signature

log = logging.getLogger(__name__)

SUMMARY_EXAMPLES = 12
SUMMARY_MAX_TOKENS = 120  # "two or three sentences"; a small model otherwise repeats itself to its limit
DEMOS_SHOWN = 3
VALUE_CHARS = 300
MAX_INSTRUCTION_CHARS = 800
COPIED_RUN = 6  # words in a row shared with a shown example, or said twice, that make a proposal a copy or a loop

# Words of the proposal prompt's own furniture, which an instruction for the task has no reason to use.
OFF_TASK = re.compile(r"\b(?:examples|the example|summar(?:y|ies|ize|ise|izing|ising)|programs?|tips?|"
                      r"task summary|current instruction|language models?)\b", re.IGNORECASE)

SUMMARIZE = Signature("examples -> summary", instructions=prompts.DATASET_SUMMARY)
PROPOSE = Signature("task_summary, program, step, examples, tip -> instruction",
                    instructions=prompts.PROPOSE_INSTRUCTION)


@dataclass(frozen=True)
class Proposals:
    """The candidates per predictor (the original first), and every proposal made with what became of it."""

    instructions: dict[str, list[str]]
    proposed: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Per predictor, each reply as `{"text", "outcome"}`: kept, repeated, too short, copies the tip, off task
    (the words)."""


def propose_instructions(program: Module, demo_sets: Mapping[str, list[list[Example]]], *, summary: str,
                         num_candidates: int, lm: LM, seed: int, num_threads: int = 4) -> Proposals:
    """Up to `num_candidates` instructions per predictor, the original first, grounded in `summary` (from
    `summarize_training_data`). A reply that cannot be read, or a call the budget refuses, is one fewer
    candidate, not an error; so is a proposal off the task. With one candidate no call is made."""
    instructions: dict[str, list[str]] = {name: [predictor.signature.instructions]
                                          for name, predictor in program.named_predictors()}
    proposed: dict[str, list[dict[str, str]]] = {name: [] for name in instructions}
    if num_candidates < 2:
        return Proposals(instructions, proposed)
    rng = random.Random(seed)
    description = describe_program(program)
    jobs = [(name, predictor, index, rng.choice(list(prompts.PROPOSAL_TIPS)),
             _render_demos(_demos_for(demo_sets.get(name, []), index)))
            for name, predictor in program.named_predictors() for index in range(num_candidates - 1)]

    def propose(job: tuple[str, Predict, int, str, str]) -> str | None:
        name, predictor, index, tip, examples = job
        inputs = {"task_summary": summary, "program": description, "step": _describe_step(name, predictor),
                  "examples": examples, "tip": prompts.PROPOSAL_TIPS[tip]}
        return _ask(lm, PROPOSE, inputs, rollout_id=f"propose:{seed}:{name}:{index}", field="instruction")

    written = parallel_map(propose, jobs, num_threads=num_threads, description="proposing instructions")
    for (name, *_, examples), text in zip(jobs, written, strict=False):
        if text is None:
            continue
        cleaned = _clean(text)
        outcome = _judge(cleaned, instructions[name], examples)
        proposed[name].append({"text": cleaned or text, "outcome": outcome})
        if outcome == "kept":
            instructions[name].append(cleaned)
        else:
            log.info("an instruction proposal was not kept (%s): %r", outcome, cleaned or text)
    return Proposals(instructions, proposed)


def _judge(cleaned: str | None, candidates: list[str], examples: str) -> str:
    """What becomes of a proposal: kept, or why not. `examples` is what the proposer was shown of the step's
    demos."""
    if not cleaned:
        return "too short"
    if cleaned in candidates:
        return "repeated"
    if any(_words(tip) in _words(cleaned) for tip in prompts.PROPOSAL_TIPS.values()):
        return "copies the tip"
    runs = _word_runs(cleaned)
    if len(set(runs)) < len(runs):
        return "loops"
    if set(runs) & set(_word_runs(examples)):
        return "copies an example"
    words = sorted({match.lower() for match in OFF_TASK.findall(cleaned)})
    return f"off task ({', '.join(words)})" if words else "kept"


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _word_runs(text: str) -> list[tuple[str, ...]]:
    """Every run of `COPIED_RUN` words in a row, in order, repeats included."""
    words = _words(text).split()
    return [tuple(words[start:start + COPIED_RUN]) for start in range(len(words) - COPIED_RUN + 1)]


def describe_program(program: Module) -> str:
    steps = [_describe_step(name, predictor) for name, predictor in program.named_predictors()]
    return prompts.PROGRAM_DESCRIPTION.format(count=len(steps), steps="\n".join(steps))


def _describe_step(name: str, predictor: Predict) -> str:
    signature = predictor.signature

    def fields(items) -> str:
        return ", ".join(f"{field.name} ({field.desc})" if field.desc else field.name for field in items.values())

    return prompts.PROGRAM_STEP.format(name=name, inputs=fields(signature.input_fields),
                                       outputs=fields(signature.output_fields), instructions=signature.instructions)


def summarize_training_data(trainset: Sequence[Example], lm: LM, seed: int) -> str:
    """What the training data is about, in the LM's words: the first grounding of every proposal. It needs
    no demos, so it can be written while they are bootstrapped."""
    shown = random.Random(seed).sample(list(trainset), min(SUMMARY_EXAMPLES, len(trainset)))
    return _ask(lm, SUMMARIZE, {"examples": _render_demos(shown)}, rollout_id=f"summary:{seed}",
                field="summary", max_tokens=SUMMARY_MAX_TOKENS) or "(none)"


def _ask(lm: LM, signature: Signature, inputs: dict[str, Any], *, rollout_id: str | None, field: str,
         **overrides: Any) -> str | None:
    """The reply's `field`, or None when there is none to use. A rollout id also seeds the sampler, so a
    search proposes the same candidates on every run and machine."""
    seeded = {"rollout_id": rollout_id, "seed": zlib.crc32(rollout_id.encode())} if rollout_id else {}
    try:
        outputs = adapter.predict(lm, signature, [], inputs, **seeded, **overrides)
    except BudgetExceeded:
        log.info("an instruction proposal was not made: the budget is spent")
        return None
    except (adapter.ParseError, LMError) as error:
        log.warning("an instruction proposal failed, one candidate fewer: %s", error)
        return None
    return str(outputs[field])


def _demos_for(demo_sets: list[list[Example]], index: int) -> list[Example]:
    """A different demo set for each proposal, skipping the empty set 0 when there are others."""
    filled = [demos for demos in demo_sets if demos]
    return filled[index % len(filled)][:DEMOS_SHOWN] if filled else []


def _render_demos(demos: Sequence[Example]) -> str:
    if not demos:
        return "(none)"
    return "\n\n".join("\n".join(f"{name}: {render(value)[:VALUE_CHARS]}" for name, value in demo.items()
                                 if name != "id") for demo in demos)


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = text.strip().strip('"').strip()
    if cleaned.lower().startswith("instruction:"):
        cleaned = cleaned.split(":", 1)[1].strip()
    return cleaned[:MAX_INSTRUCTION_CHARS] if len(cleaned) >= 10 else None
