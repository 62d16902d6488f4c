"""``manage.py panka validate|plan|graph``: a thin wrapper over ``deployments.spec.cli``.

All behaviour lives in the Django-free package so it can be tested and run without
settings (``python -m deployments.spec``); this only adapts Django's command class.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from deployments.spec import cli


class Command(BaseCommand):
    help = "Validate a Panka stack, plan it against a state file, or print its graph."
    requires_system_checks: list[str] = []  # works on files; needs no database or apps

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: object, **options: object) -> None:
        status = cli.run(dict(options), self.stdout, self.stderr)
        if status:
            # Findings are already printed; only the exit status is left to give.
            sys.exit(status)
