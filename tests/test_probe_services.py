"""The production pass's probe: skip with a message naming what is missing."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "probe_services.py"
spec = importlib.util.spec_from_file_location("probe_services", SCRIPT)
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)


def test_a_listening_server_is_reachable_and_a_closed_port_is_named(capsys):
    with socket.create_server(("127.0.0.1", 0)) as server:
        open_port = server.getsockname()[1]
        with socket.socket() as spare:  # bound, never listening: refuses connections
            spare.bind(("127.0.0.1", 0))
            closed_port = spare.getsockname()[1]
            assert probe.unreachable(f"redis://127.0.0.1:{open_port}/13") is None
            assert probe.main([f"postgres://u@127.0.0.1:{open_port}/test"]) == 0
            assert probe.main([f"postgres://u@127.0.0.1:{closed_port}/test"]) == 1
    assert f"postgres at 127.0.0.1:{closed_port} is not reachable" in capsys.readouterr().out
