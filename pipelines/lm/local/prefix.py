"""Reuse of a prompt's shared prefix (the system message and the demos) that keeps temperature-0 output
independent of history.

llama.cpp's numbers depend on how a prompt is cut into batches, so reusing whatever prefix the previous call
left behind makes the same prompt answer differently after different calls. Here every prompt is cut at
one place fixed by the prompt alone: where the content of its last message begins, after that message's
role header and the field label that opens it (`question:`, as sigflow's adapter writes), which every call
of a step shares with its system message and demos. The part before is always evaluated as a batch of its
own from an empty context (or copied from a snapshot of exactly that evaluation), the rest always after it;
so an answer depends on the prompt only, whichever worker gives it and whatever came before. A prompt of
one message reuses nothing."""

from __future__ import annotations

import ctypes
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

_SEQUENCE = 0  # llama-cpp-python decodes every prompt as sequence 0
_LABEL = re.compile(r"[A-Za-z_][\w ]{0,40}:")  # a `field:` label opening the last message


@dataclass(frozen=True)
class SplitPrompt:
    """A chat prompt's tokens and where its reusable prefix ends (0: nothing to reuse)."""

    tokens: list[int]
    prefix_length: int

    @property
    def prefix(self) -> tuple[int, ...]:
        return tuple(self.tokens[: self.prefix_length])


class PromptSplitter:
    """Renders messages with the model's own chat template, as `create_chat_completion` does, and finds the
    canonical split. Without a template in the model file, nothing is reused."""

    def __init__(self, llama: Any):
        self._llama = llama
        template = llama.metadata.get("tokenizer.chat_template")
        self._full = self._prefix = None
        if template and llama.chat_format == "chat_template.default" and llama.chat_handler is None:
            eos, bos = (llama._model.token_get_text(token) if token != -1 else ""
                        for token in (llama.token_eos(), llama.token_bos()))
            self._full, self._prefix = (Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos,
                                                            add_generation_prompt=generation_prompt)
                                        for generation_prompt in (True, False))

    def split(self, messages: list[dict[str, Any]]) -> SplitPrompt:
        if self._full is None or len(messages) < 2:
            return SplitPrompt([], 0)
        tokens = self._tokenize(self._full(messages=messages).prompt)
        # The same prompt with the last message cut to its label shares exactly the tokens before the rest.
        content = messages[-1].get("content")
        label = _LABEL.match(content) if isinstance(content, str) else None
        cut = {**messages[-1], "content": label.group() if label else ""}
        emptied = self._tokenize(self._prefix(messages=[*messages[:-1], cut]).prompt)
        shared = _common_prefix_length(tokens, emptied)
        return SplitPrompt(tokens, shared if shared < len(tokens) else 0)

    def _tokenize(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)


def _common_prefix_length(first: list[int], second: list[int]) -> int:
    pairs = zip(first, second, strict=False)
    return next((index for index, (one, other) in enumerate(pairs) if one != other), min(len(first), len(second)))


class PrefixStates:
    """Snapshots of evaluated prefixes, least recently used dropped first, at most `max_bytes` in all."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._states: OrderedDict[tuple[int, ...], ctypes.Array] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, prefix: tuple[int, ...]) -> ctypes.Array | None:
        state = self._states.get(prefix)
        if state is not None:
            self._states.move_to_end(prefix)
        return state

    def put(self, prefix: tuple[int, ...], state: ctypes.Array) -> None:
        if len(state) > self.max_bytes or prefix in self._states:
            return
        while self.bytes + len(state) > self.max_bytes:
            _, dropped = self._states.popitem(last=False)
            self.bytes -= len(dropped)
        self._states[prefix] = state
        self.bytes += len(state)


class PrefixReuse:
    """Puts a `Llama` into the canonical state for a prompt: its prefix evaluated and nothing after it.
    `create_chat_completion` then finds the prefix in place and evaluates only the rest."""

    def __init__(self, llama: Any, max_bytes: int):
        self._llama = llama
        self._splitter = PromptSplitter(llama)
        self.states = PrefixStates(max_bytes)
        self._resident: tuple[int, ...] = ()  # the canonical prefix the context holds now, if any

    def prepare(self, messages: list[dict[str, Any]]) -> int:
        """Ready the context for `messages`; returns how many prompt tokens are reused."""
        split = self._splitter.split(messages)
        llama = self._llama
        if split.prefix_length == 0 or len(split.tokens) > llama.n_ctx():
            llama.reset()  # no prefix, or too long: the library evaluates it all and names the problem
            self._resident = ()
            return 0
        prefix = split.prefix
        if prefix != self._resident:
            state = self.states.get(prefix)
            if state is None:
                self._evaluate(prefix)
            else:
                self._restore(prefix, state)
            self._resident = prefix
        llama.n_tokens = split.prefix_length
        return split.prefix_length

    def _evaluate(self, prefix: tuple[int, ...]) -> None:
        llama = self._llama
        llama.reset()
        llama.eval(list(prefix))
        size = llama_cpp.llama_state_seq_get_size(llama.ctx, _SEQUENCE)
        state = (ctypes.c_uint8 * size)()
        llama_cpp.llama_state_seq_get_data(llama.ctx, state, size, _SEQUENCE)
        self.states.put(prefix, state)

    def _restore(self, prefix: tuple[int, ...], state: ctypes.Array) -> None:
        llama = self._llama
        llama.reset()
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        if not llama_cpp.llama_state_seq_set_data(llama.ctx, state, len(state), _SEQUENCE):
            self._evaluate(prefix)  # a snapshot that does not load is recomputed, never trusted
            return
        llama.input_ids[: len(prefix)] = prefix
