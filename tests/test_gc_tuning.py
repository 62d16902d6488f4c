"""The serving process's garbage-collector settings (panka_web/gc_tuning.py)."""

from __future__ import annotations

import gc

import pytest
from django.core.exceptions import ImproperlyConfigured

from panka_web import gc_tuning


@pytest.fixture
def restore_gc():
    # Another test may leave the collector switched off; these start with it on.
    before, was_enabled = gc.get_threshold(), gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)
    if not was_enabled:
        gc.disable()


def test_tuning_freezes_the_loaded_objects_and_raises_the_young_threshold(restore_gc):
    gc.set_threshold(700, 10, 10)
    assert gc_tuning.tune_gc({}) is True
    assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, 10, 10)
    assert gc.get_freeze_count() > 0
    # Cycles are still collected: the collector runs less often; it is not switched off.
    assert gc.isenabled()


def test_tuning_can_be_turned_off(restore_gc):
    gc.set_threshold(700, 10, 10)
    assert gc_tuning.tune_gc({"PANKA_GC_TUNING": "false"}) is False
    assert gc.get_threshold() == (700, 10, 10)


def test_a_bad_value_stops_the_start(restore_gc):
    with pytest.raises(ImproperlyConfigured, match="PANKA_GC_TUNING"):
        gc_tuning.tune_gc({"PANKA_GC_TUNING": "maybe"})
