"""What `reactions serve` adds to Datasette: templates of our own (reactions
as cards, a readable post page, an index that leads with the reactions and
the ready-made queries, charts), and a small plugin that keeps a public
instance fast and quiet on bad requests (see :mod:`scraper.web.plugin`).

Datasette loads the plugin from :func:`plugins_folder` (``--plugins-dir``)
and the templates from :func:`templates_folder` (``--template-dir``), so
they apply to the archive served by `reactions serve` and
``publish.datasette_instance``, not to every Datasette of the environment.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _folder(name: str) -> Path:
    return Path(str(resources.files("scraper.web").joinpath(name)))


def templates_folder() -> Path:
    return _folder("templates")


def plugins_folder() -> Path:
    return _folder("plugins")
