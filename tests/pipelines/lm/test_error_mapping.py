"""litellm's exceptions become sigflow's typed errors, keeping the provider's message."""

import httpx
import pytest

from pipelines.lm import errors
from pipelines.lm.litellm_transport import load_litellm, map_error

litellm = load_litellm()
_response = httpx.Response(500, request=httpx.Request("POST", "http://127.0.0.1"))


@pytest.mark.parametrize(("raised", "expected", "retryable"), [
    (litellm.RateLimitError("slow down", "openai", "m"), errors.LMRateLimited, True),
    (litellm.Timeout("took too long", "m", "openai"), errors.LMTimeout, True),
    (litellm.APIConnectionError("refused", "openai", "m"), errors.LMConnectionError, True),
    (litellm.InternalServerError("boom", "openai", "m"), errors.LMServerError, True),
    (litellm.ServiceUnavailableError("down", "openai", "m"), errors.LMServerError, True),
    (litellm.AuthenticationError("bad key", "openai", "m"), errors.LMAuthenticationError, False),
    (litellm.NotFoundError("no such model", "m", "openai"), errors.LMNotFound, False),
    (litellm.ContextWindowExceededError("too long", "m", "openai"), errors.LMContextWindowExceeded, False),
    (litellm.BadRequestError("bad", "m", "openai"), errors.LMBadRequest, False),
])
def test_litellm_errors_map_to_typed_errors(raised, expected, retryable):
    mapped = map_error(raised, "openai/m")
    assert type(mapped) is expected
    assert mapped.retryable is retryable
    assert mapped.model == "openai/m"
    assert str(raised.message) in str(mapped)


def test_an_unknown_exception_keeps_its_type_and_message():
    mapped = map_error(RuntimeError("kaput"), "x/y")
    assert type(mapped) is errors.LMError
    assert "RuntimeError: kaput" in str(mapped)
