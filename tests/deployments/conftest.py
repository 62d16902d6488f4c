import pytest


@pytest.fixture
def inline_tasks(settings, aws):
    """Run worker tasks in the test's thread, against the emulator."""
    settings.PANKA_RUN_TASKS_INLINE = True
    return aws
