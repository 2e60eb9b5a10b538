"""MLflow GenAI interop with the scripted LM: `mlflow.genai.evaluate` over a sigflow program with sigflow
metrics and a judge as scorers, and chosen instructions registered as prompt versions and loaded back."""

import mlflow

from pipelines import Example, Predict, ScriptedLM, answer_correct, context, exact_match
from serving.genai import genai_evaluate, prompt_name, register_instructions

EXAMPLES = [Example(id=str(index), question=f"What is {index} + {index}?", answer=str(2 * index))
            .with_inputs("question") for index in range(3)]


def world(messages) -> str:
    last = messages[-1]["content"]
    if "gold_answer" in messages[0]["content"]:
        fields = dict(line.split(": ", 1) for line in last.splitlines() if ": " in line)
        return f"rationale: compared\ncorrect: {fields['gold_answer'] == fields['answer']}"
    number = int(last.split("What is ")[1].split(" ")[0])
    return f"answer: {2 * number if number != 1 else 7}"


def test_mlflow_genai_evaluate_scores_a_program_with_sigflow_metrics_and_a_judge():
    mlflow.set_experiment("genai")
    with ScriptedLM(responder=world) as fake, context(lm=fake.lm()):
        result = genai_evaluate(Predict("question -> answer"), EXAMPLES,
                                [exact_match("answer"), answer_correct(lm=fake.lm())], num_threads=1)
    assert round(result.metrics["exact_match:answer/mean"], 3) == round(result.metrics["answer_correct:answer/mean"],
                                                                         3) == 0.667
    rows = result.result_df
    assert sorted(rows["exact_match:answer/value"].tolist()) == [0.0, 1.0, 1.0]
    assert set(rows["answer_correct:answer/rationale"]) == {"compared"}
    traces = mlflow.search_traces(run_id=result.run_id, return_type="list")
    assert len(traces) == len(EXAMPLES)
    assert mlflow.get_run(result.run_id).data.tags["mlflow.runType"] == "genai_evaluate"


def test_chosen_instructions_are_prompt_versions_tagged_with_their_run_and_loaded_back():
    program = Predict("question -> answer")
    program.signature = program.signature.with_instructions("Add the two numbers; answer with the sum alone.")
    first = register_instructions(program, "adder", {"run_id": "r1", "score": "0.5"})
    again = register_instructions(program, "adder", {"run_id": "r2", "score": "0.6"})
    program.signature = program.signature.with_instructions("Answer with the sum of the two numbers.")
    changed = register_instructions(program, "adder", {"run_id": "r3", "score": "0.9"})
    assert first == again == {"self": "prompts:/adder.self/1"} and changed == {"self": "prompts:/adder.self/2"}
    loaded = mlflow.genai.load_prompt("prompts:/adder.self/2")
    assert loaded.template == "Answer with the sum of the two numbers." and loaded.tags["run_id"] == "r3"
    assert mlflow.genai.load_prompt("prompts:/adder.self/1").tags["score"] == "0.6"
    assert prompt_name("my_program.py:Router", "route.predict") == "my_program.py-Router.route.predict"
