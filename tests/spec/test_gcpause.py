"""The collector pause around validation and planning (deployments/spec/gcpause.py)."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from deployments.spec import gcpause, validate


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    # Leave the collector as the test found it, whatever the test did with it.
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    with gcpause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_exception_still_turns_it_back_on() -> None:
    with pytest.raises(ValueError), gcpause.paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_nested_pauses_end_with_the_outermost() -> None:
    with gcpause.paused():
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with gcpause.paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_in_threads_end_with_the_last_one() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gcpause.paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with gcpause.paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first thread left; this one still runs

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_validation_leaves_the_collector_on() -> None:
    validate({"stack.yaml": "kind: Stack\n"})
    assert gc.isenabled()


class _Node:
    """Something that can be part of a garbage cycle and be watched by a weakref."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_what_a_pause_made_leaves_the_young_generations_unwalked_and_intact() -> None:
    with gcpause.paused():
        made = [{"n": [i]} for i in range(5_000)]
    assert gc.get_count()[0] < 100, "the young generation starts again from empty"
    young = {id(o) for o in gc.get_objects(generation=0)} | {
        id(o) for o in gc.get_objects(generation=1)
    }
    assert not any(id(o) in young for o in made[::50]), "moved to the oldest generation"
    assert made[4_999] == {"n": [4_999]}


def test_garbage_cycles_of_a_pause_are_still_collected() -> None:
    with gcpause.paused():
        ref = _cycle()
    assert ref() is not None, "reference counting alone cannot free a cycle"
    gc.collect()
    assert ref() is None


def test_a_pause_starts_by_collecting_the_young_generations() -> None:
    """So the objects it moves unwalked at its end are its own."""
    gc.collect()
    ref = _cycle()
    with gcpause.paused():
        assert ref() is None
