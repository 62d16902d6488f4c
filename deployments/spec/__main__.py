"""``python -m deployments.spec validate|plan|graph ...`` without Django."""

from .cli import main

raise SystemExit(main())
