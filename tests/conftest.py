from pathlib import Path

import pytest

from scraper.archive import Archive
from scraper.config import load_config

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PERU_CONFIG = ROOT / "elections" / "peru-2021.yml"
VALDORIA_CONFIG = FIXTURES / "config" / "valdoria.yml"


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
