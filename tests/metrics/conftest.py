import pytest


@pytest.fixture(scope="session")
def uc():
    """andi-datasets' scorer (``andi_datasets.utils_challenge``); skips where it is not installed."""
    return pytest.importorskip("andi_datasets.utils_challenge")
