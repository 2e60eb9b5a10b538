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
