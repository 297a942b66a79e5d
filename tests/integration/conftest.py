import pytest

from harness import Instance


@pytest.fixture
def instance():
    """A fresh, started instance with one user; always torn down."""
    inst = Instance()
    try:
        inst.add_user("alice@example.test")
        inst.start()
        yield inst
    finally:
        inst.close()


@pytest.fixture
def stopped_instance():
    """A fresh instance that is initialized but not started."""
    inst = Instance()
    try:
        yield inst
    finally:
        inst.close()
