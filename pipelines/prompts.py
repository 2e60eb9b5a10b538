"""Every prompt text sigflow itself writes, as named templates in one place.

The answer format is deliberately plain (`field: value` lines) and the system message short: a 0.5B model
left 36% of answers unparseable under a long marker-heavy prompt and followed this one every time."""

SYSTEM = """{instructions}

{fields_block}
Reply in exactly this format, one field per line, and nothing else:
{answer_template}"""

FIELDS_BLOCK = """You are given:
{input_lines}
You produce:
{output_lines}
"""

CORRECTION = """Your reply could not be read: {problem}
Reply again in exactly this format, one field per line, and nothing else:
{answer_template}"""

# Instruction proposals (the MIPRO-style optimizer). Each is the instruction of a signature that sigflow runs
# through its own adapter, so the replies are parsed and retried like any program's.
DATASET_SUMMARY = """Read these examples of a task and describe the task in two or three sentences: what the \
inputs are, what the outputs are, and any pattern in the answers that someone doing the task should know."""

PROGRAM_DESCRIPTION = """A program of {count} step(s). Each step reads some fields and writes others:
{steps}"""

PROGRAM_STEP = "- step {name!r}: reads {inputs}; writes {outputs}; current instruction: {instructions}"

PROPOSE_INSTRUCTION = """You improve programs that use a language model. Write a new instruction for one \
step of the program, in your own words and not a copy of its current instruction: clear, specific to the task, \
one to three sentences. Use the task summary, the program, the examples of the step done right and the tip. \
Reply with the instruction only, not an answer to an example."""

# One tip is drawn at random for each proposal, so the candidates differ in kind and not just in wording.
PROPOSAL_TIPS = {
    "none": "No special advice: write the instruction you think works best.",
    "simple": "Keep the instruction short and simple.",
    "descriptive": "Make the instruction detailed: say what each input means and what a good output looks like.",
    "rules": "Give the rules that separate right answers from near misses.",
    "persona": "Start the instruction with a persona suited to the task, such as an expert of its field.",
    "format": "Stress that the output must be exactly one of the allowed values, with no extra words.",
}

# Agents (`ReAct`). The step's instruction keeps the task's own first; the tools are listed in the field the
# step writes the tool's name to, so an optimizer that rewrites the instruction never loses them.
REACT_STEP = """{task}

Work step by step with the tools below. Each step, read the trajectory so far, write a short thought about \
what is still missing, then name one tool and give its arguments as a JSON object. What the tool returns is \
added to the trajectory. Once the trajectory holds what is needed for {outputs}, name {finish} with {{}}."""

REACT_TOOLS = """the tool to call now, one of:
{tools}"""

REACT_FINISH = "{finish}, arguments {{}}: the trajectory holds what is needed; stop calling tools"

REACT_FINISH_THOUGHT = "the trajectory holds what the answer needs"

REACT_REPEATED = "the same call as step {step}; {tool} is not called again, the answer is written from here"

REACT_EXTRACT = """{task}

The trajectory shows the tools that were called and what they returned: answer from it."""

TRAJECTORY_EMPTY = "(no steps yet)"

# `Refine`: advice for the next attempt, written from the last one and its reward.
REFINE_ADVICE = """An attempt at a task fell short: its reward was below what is wanted. Read the task, the \
attempt's inputs and outputs, and write one or two sentences of advice for the next attempt at the same \
inputs: what to do differently. Do not give the answer itself."""
