"""The GraphiQL page and its vendored assets: pinned, licensed, served, no CDN."""

from __future__ import annotations

import hashlib
import re

import httpx
from starlette.applications import Starlette

from shared.graphiql import ASSETS_DIR, GUIDE, VERSIONS, asset_route, graphiql_html
from shared.testing import serve_app


def test_every_asset_is_pinned_by_its_readme():
    readme = (ASSETS_DIR / "README.md").read_text(encoding="utf-8")
    for path in sorted(ASSETS_DIR.glob("*.js")) + sorted(ASSETS_DIR.glob("*.css")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"`{path.name}` |" in readme and digest in readme, path.name
    for package, version in VERSIONS.items():
        assert f"{package} {version}" in readme
    assert "MIT" in (ASSETS_DIR / "LICENSE.graphiql").read_text(encoding="utf-8")
    assert "MIT" in (ASSETS_DIR / "LICENSE.react").read_text(encoding="utf-8")


def test_the_page_names_no_other_host():
    page = graphiql_html(title="T", guide=GUIDE)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "shouldPersistHeaders: true" in page
    assert '"# Welcome to Tributary!' in page  # the guide opens the first tab
    assert "</script>" not in graphiql_html(title="T", guide="</script>").split("const guide = ")[1].split(";")[0]


async def test_assets_are_served_and_nothing_else():
    async with serve_app(Starlette(routes=[asset_route()])) as base, httpx.AsyncClient(base_url=base) as client:
        js = await client.get("/_graphiql/graphiql.min.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        assert js.content == (ASSETS_DIR / "graphiql.min.js").read_bytes()
        licence = await client.get("/_graphiql/LICENSE.react")
        assert licence.status_code == 200
        for missing in ("README.md", "..%2Fgraphiql.py", "nope.js"):
            assert (await client.get(f"/_graphiql/{missing}")).status_code == 404, missing


def test_the_guide_tab_runs_against_the_supergraph():
    from graphql import parse, validate

    from gateway.supergraph import build_api_schema

    root = ASSETS_DIR.parents[1]
    schema = build_api_schema((root / "schema" / "supergraph.graphql").read_text(encoding="utf-8"))
    document = parse(GUIDE)
    assert validate(schema, document) == []
    names = [op.name.value for op in document.definitions]  # type: ignore[attr-defined]
    assert names == ["Register", "Login", "Me", "Post", "Notifications"]
