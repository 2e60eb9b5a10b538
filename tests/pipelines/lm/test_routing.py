"""The pool's queue: a worker gets a request whose prefix it holds, the oldest otherwise, and no request
waits for ever behind preferred ones."""

import threading
from dataclasses import dataclass

from pipelines.lm.local import routing
from pipelines.lm.local.routing import Affinity, AffinityQueue


@dataclass(eq=False)
class Request:
    prefix_key: str
    queued_at: float = 0.0


def _holding(*keys: str) -> Affinity:
    affinity = Affinity()
    for key in keys:
        affinity.served(key)
    return affinity


def test_a_worker_takes_the_request_whose_prefix_it_holds_before_older_ones():
    queue = AffinityQueue()
    first, second, third = Request("a"), Request("b"), Request("b")
    for request in (first, second, third):
        queue.put(request)
    holds_b = _holding("b")
    assert queue.take(holds_b) is second
    assert queue.take(holds_b) is third
    assert queue.take(holds_b) is first


def test_without_a_match_the_oldest_request_goes_first():
    queue = AffinityQueue()
    first, second = Request("a"), Request("b")
    queue.put(first)
    queue.put(second)
    assert queue.take(Affinity()) is first


def test_a_request_that_waited_past_the_patience_is_taken_before_preferred_ones(monkeypatch):
    queue = AffinityQueue()
    old, preferred = Request("a"), Request("b")
    queue.put(old)
    queue.put(preferred)
    old.queued_at -= routing.PATIENCE_SECONDS
    assert queue.take(_holding("b")) is old


def test_taking_a_request_records_its_prefix_for_the_worker():
    queue = AffinityQueue()
    affinity = Affinity()
    queue.put(Request("a"))
    queue.take(affinity)
    assert "a" in affinity and "b" not in affinity


def test_a_worker_remembers_a_bounded_number_of_prefixes():
    affinity = _holding(*(str(index) for index in range(routing.REMEMBERED_PREFIXES + 1)))
    assert "0" not in affinity and str(routing.REMEMBERED_PREFIXES) in affinity


def test_a_closed_queue_hands_out_what_is_left_then_none():
    queue = AffinityQueue()
    left = Request("a")
    queue.put(left)
    queue.close()
    assert queue.take(Affinity()) is left
    assert queue.take(Affinity()) is None


def test_take_waits_for_a_request():
    queue = AffinityQueue()
    taken = []
    worker = threading.Thread(target=lambda: taken.append(queue.take(Affinity())))
    worker.start()
    request = Request("a")
    queue.put(request)
    worker.join(timeout=5)
    assert taken == [request]
