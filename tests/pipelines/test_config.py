import threading

from pipelines import LM, Predict, ScriptedLM, configure, context
from pipelines.config import current_lm


def test_context_overrides_configure_in_its_block_only():
    configured, scoped = LM("openai/a"), LM("openai/b")
    configure(lm=configured)
    try:
        assert current_lm() is configured
        with context(lm=scoped):
            assert current_lm() is scoped
        assert current_lm() is configured
    finally:
        configure(lm=None)


def test_without_configuration_the_default_is_the_embedded_model():
    assert current_lm().model == "local/qwen2.5-coder-0.5b"


def test_each_thread_sees_its_own_context():
    seen: dict[int, list[str]] = {}
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        with ScriptedLM(responder=lambda messages: "answer: x") as fake, context(lm=fake.lm()):
            barrier.wait()  # all eight contexts are open at once
            Predict("question -> answer")(question=f"q{index}")
            seen[index] = [call.messages[-1]["content"] for call in fake.history]

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {index: [f"question: q{index}"] for index in range(8)}
