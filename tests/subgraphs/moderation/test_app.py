"""`make run` finds the moderation subgraph, on its contract port, and its app serves."""

from __future__ import annotations

import httpx

from devstack.stack import DEV_PORTS, discover_subgraphs, prepare_environment
from tests.subgraphs.moderation._served import serve_moderation


def test_the_dev_stack_discovers_moderation_on_its_port(tmp_path) -> None:
    assert "moderation" in discover_subgraphs()
    environ: dict[str, str] = {}
    services = prepare_environment(["identity", "social", "moderation"], data_dir=tmp_path,
                                   environ=environ)
    assert {s.name: s.port for s in services}["moderation"] == DEV_PORTS["moderation"] == 4106
    assert '"moderation": "http://127.0.0.1:5106"' in environ["SOCIAL_PEERS"]


async def test_the_app_serves_health_and_coded_graphql_errors(tmp_path, classifier) -> None:
    served = await serve_moderation(tmp_path, classifier=classifier)
    try:
        async with httpx.AsyncClient(base_url=served.base, timeout=10) as http:
            assert (await http.get("/health/live")).status_code == 200
            body = (await http.post("/graphql", json={"query": "{ reviewQueue { id } }"})).json()
    finally:
        await served.stop()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
