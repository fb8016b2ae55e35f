"""Loaded by Datasette from this folder (``--plugins-dir``); the hooks live
in scraper/web/plugin.py, where they can be imported and tested."""

from scraper.web.plugin import (  # noqa: F401  (Datasette registers the hooks it finds here)
    asgi_wrapper,
    extra_template_vars,
    handle_exception,
    menu_links,
    prepare_jinja2_environment,
    register_facet_classes,
    reactions_search_plan,
    register_routes,
    startup,
)
