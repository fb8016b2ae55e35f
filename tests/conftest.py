import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from scraper.archive import Archive
from scraper.config import load_config

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PERU_CONFIG = ROOT / "elections" / "peru-2021.yml"
VALDORIA_CONFIG = FIXTURES / "config" / "valdoria.yml"

# Property-based tests (the fault suite's fuzzing): a bounded, repeatable
# run in CI; `pytest --fuzz-long` (or HYPOTHESIS_PROFILE=long) for a long,
# random one locally. See docs/reliability.md.
_FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.function_scoped_fixture])
settings.register_profile("ci", max_examples=12, derandomize=True, database=None, print_blob=True, **_FUZZ)
settings.register_profile("long", max_examples=1000, print_blob=True, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true", help="Fuzz with the long hypothesis profile (1000 examples).")
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="Fuzz with this many random examples a property (between CI's 12 and --fuzz-long's 1000).")
    parser.addoption("--kill-trials", type=int, default=None,
                     help="kill -9 trials per kind (import, scrape) in tests/test_fault_kill.py (CI: 3 and 2).")


def pytest_configure(config):
    if config.getoption("--fuzz-long"):
        settings.load_profile("long")
    if config.getoption("--fuzz-examples"):
        settings.register_profile("examples", max_examples=config.getoption("--fuzz-examples"), print_blob=True, **_FUZZ)
        settings.load_profile("examples")


@pytest.fixture
def archive(tmp_path):
    archive = Archive(tmp_path / "archive.db")
    archive.migrate()
    return archive


@pytest.fixture
def valdoria_config():
    return load_config(VALDORIA_CONFIG)


@pytest.fixture
def valdoria_archive(archive, valdoria_config):
    archive.load_config(valdoria_config)
    return archive


@pytest.fixture
def peru_archive(tmp_path):
    from scraper.scrape import run_scrape

    archive = Archive(tmp_path / "archive.db")
    archive.migrate()
    result = run_scrape(archive, load_config(PERU_CONFIG))
    assert result.exit_code == 0, [s.as_dict() for s in result.sources]
    return archive


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """The fictional demo election (scraper.demo), built once per session;
    tests only read it."""
    from scraper.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path)
    return path
