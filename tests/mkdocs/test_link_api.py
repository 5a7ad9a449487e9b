"""MkDocs ``link: api``: nodes link to mkdocstrings' entries; undocumented steps to source."""

from __future__ import annotations

import re

import pytest

from tests.mkdocs.conftest import Build, run, write_site

FLOWS = '''
"""Shipping."""
from penstock import entrypoint, flow, step


@flow("shipping")
@entrypoint
def on_order():
    """Take an order."""


@flow("shipping")
@step(after=on_order)
def ship():
    """Ship it."""


@flow("shipping")
@step(after=ship)
def undocumented():
    """Not in the API page."""
'''

PAGES = {
    "index.md": "# Shipping\n\n::: penstock-flow shipping\n    link: api\n",
    "api.md": "# API\n\n::: shop.flows.on_order\n\n::: shop.flows.ship\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = write_site(
        tmp_path_factory.mktemp("api"),
        PAGES,
        plugin={
            "modules": ["shop.flows"],
            "source_url": "https://git.example/app/blob/main/{path}#L{line}",
        },
        modules={"shop/flows.py": FLOWS},
        more_plugins=[{"mkdocstrings": {"handlers": {"python": {"paths": ["src"]}}}}],
    )
    return run("mkdocs", root)


def test_documented_steps_link_to_their_api_entry(site: Build) -> None:
    """on_order and ship link to api/#shop.flows.<name>; the build itself succeeds."""
    assert site.returncode == 0, site.output
    (text,) = site.diagrams("index")
    hrefs = re.findall(r'click \S+ href "([^"]*)"', text)
    assert "api/#shop.flows.on_order" in hrefs
    assert "api/#shop.flows.ship" in hrefs
    assert "penstock-api-" not in text
    page = site.page("api")
    assert 'id="shop.flows.on_order"' in page


def test_undocumented_step_falls_back_to_source_with_a_located_warning(site: Build) -> None:
    """undocumented links to its source and the build warns naming page:line and the step."""
    (text,) = site.diagrams("index")
    hrefs = re.findall(r'click \S+ href "([^"]*)"', text)
    assert any(re.fullmatch(r"https://git\.example/app/blob/main/src/shop/flows\.py#L\d+", h)
               for h in hrefs), hrefs  # fmt: skip
    assert re.search(
        r"WARNING +- +penstock_mkdocs: index\.md:3: link: api: shop\.flows\.undocumented "
        r"is not in the API reference",
        site.output,
    ), site.output
