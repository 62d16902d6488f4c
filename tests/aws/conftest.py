"""Helpers for the AWS layer tests: an injectable clock and botocore event hooks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from deployments.aws.clients import AwsSettings, client


class FakeClock:
    """A clock the test moves by hand, so lease expiry needs no sleep."""

    def __init__(self, start: float | None = None) -> None:
        self.now = float(int(start if start is not None else time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hook(aws: AwsSettings) -> Iterator[Callable[[str, str, Callable[..., Any]], None]]:
    """Register a botocore event handler on the process's cached client for a service;
    removed after the test, since the cached client outlives it."""
    registered: list[tuple[Any, str, Callable[..., Any]]] = []

    def register(service: str, event: str, handler: Callable[..., Any]) -> None:
        events = client(aws, service).meta.events
        events.register(event, handler)
        registered.append((events, event, handler))

    yield register
    for events, event, handler in registered:
        events.unregister(event, handler)
