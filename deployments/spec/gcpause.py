"""No cyclic garbage collection in the middle of a validation or a plan.

Validation builds a large tree of new dicts, lists and models, nearly all of which
stays alive until the end and holds no reference cycle, so reference counting frees
it. Left on, the collector walks those survivors again and again as they age through
its generations; in a web worker, whose heap holds Django and everything it imported,
they also trigger full collections of that whole heap. Paused, nothing is walked
meanwhile.

At the end the survivors are moved to the oldest generation as they are, unwalked
(``gc.freeze()`` then ``gc.unfreeze()``: two list splices), instead of a collection of
the young generation that would walk all of them to find nothing: that walk was 5-10%
of validate + plan of the 1,000-component benchmark stack (bench/spec_bench.py; the
same in a process holding 300,000 more objects). So that only the pause's own objects
skip the young collections, the pause starts with one (``gc.collect(1)``: the young
two generations, at most a few thousand objects). The moved objects are walked by the
next full collection if still alive; they do not make one come sooner (CPython counts
only objects that a collection promoted). Costs of this: objects that other threads of
the process allocate during a pause skip the young collections too (their garbage
cycles wait for a full collection), and a process that validates must not rely on
``gc.freeze()`` for anything of its own, since the end of a pause undoes it.

Process-wide (``gc.disable`` is), so nested and concurrent pauses (threads of one web
worker) share one count and the collector comes back on when the last one ends, and
only if it was on when the first one began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0  # pauses in progress, across threads
_reenable = False  # the first pause found the collector on


@contextmanager
def paused() -> Iterator[None]:
    global _active, _reenable
    with _lock:
        if _active == 0:
            _reenable = gc.isenabled()
            if _reenable:
                gc.collect(1)
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _reenable:
                _reenable = False
                gc.freeze()
                gc.unfreeze()
                gc.enable()
