"""Countries: ISO 3166-1 codes and names (from pycountry) with a
representative point for maps (approximate geographic centres, bundled in
data/country_points.csv; countries without one get no coordinates)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import pycountry


def is_country_code(code: str) -> bool:
    return isinstance(code, str) and len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


@cache
def _points() -> dict[str, tuple[float, float]]:
    text = resources.files("scraper").joinpath("data/country_points.csv").read_text(encoding="utf-8")
    return {row["code"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(text.splitlines())}


def country_rows() -> list[dict]:
    """Every ISO 3166-1 country as a row of the countries table."""
    points = _points()
    rows = []
    for country in pycountry.countries:
        latitude, longitude = points.get(country.alpha_2, (None, None))
        rows.append(
            {
                "code": country.alpha_2,
                "alpha_3": country.alpha_3,
                "name": getattr(country, "common_name", None) or country.name,
                "official_name": getattr(country, "official_name", None),
                "latitude": latitude,
                "longitude": longitude,
            }
        )
    return sorted(rows, key=lambda row: row["code"])
