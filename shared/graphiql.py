"""The GraphiQL page every service serves on GET /graphql, with its assets shipped in the repo."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["ASSETS_PATH", "GUIDE", "VERSIONS", "asset_route", "graphiql_html"]

ASSETS_DIR = Path(__file__).with_name("graphiql_assets")
ASSETS_PATH = "/_graphiql"
VERSIONS = {"graphiql": "3.7.1", "react": "18.3.1", "react-dom": "18.3.1"}
_FILES = {
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "LICENSE.graphiql": "text/plain",
    "LICENSE.react": "text/plain",
}

# The first tab a newcomer sees on the gateway: how to get a token and where to put it.
GUIDE = """# Welcome to Tributary!
# Ctrl-Enter (or the play button) runs the
# operation under the cursor.
#
# 1. Run Register (once; Login after that)
#    and copy the accessToken it answers.
# 2. Open Headers (below) and paste:
#    {"Authorization": "Bearer <accessToken>"}
#    GraphiQL keeps it across reloads. After
#    15 minutes requests answer 401 "Token
#    expired": run Login again.
# 3. Run Me: identity, social and wallet
#    answer it together.
# 4. Run Notifications: it waits over
#    WebSocket (the headers go as the
#    connection_init payload) until another
#    account follows you.
# More in the README, "First queries".

mutation Register {
  register(input: {handle: "ada", password: "correct horse battery"}) {
    accessToken
    user { id handle }
  }
}

mutation Login {
  login(input: {login: "ada", password: "correct horse battery"}) {
    accessToken
  }
}

query Me {
  me { id handle followersCount postsCount tipsReceivedTotal { currency amount } }
}

mutation Post {
  createPost(input: {text: "Hello, Tributary!"}) { id text }
}

subscription Notifications {
  notificationAdded { kind actor { handle } }
}
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>__TITLE__</title>
  <style>body { height: 100%; margin: 0; width: 100%; overflow: hidden; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="__ASSETS__/graphiql.min.css" />
</head>
<body>
  <div id="graphiql">Loading GraphiQL…
    <noscript>GraphiQL needs JavaScript.</noscript></div>
  <script src="__ASSETS__/react.production.min.js"></script>
  <script src="__ASSETS__/react-dom.production.min.js"></script>
  <script src="__ASSETS__/graphiql.min.js"></script>
  <script>
    const url = new URL(window.location.href);
    const wsUrl = (url.protocol === 'https:' ? 'wss://' : 'ws://') + url.host + url.pathname;
    const guide = __GUIDE__;
    // GraphiQL sends the Headers tab with every request; over WebSocket they go as the
    // connection_init payload, which is where our services read credentials from.
    const fetcher = GraphiQL.createFetcher({
      url: url.pathname,
      subscriptionUrl: wsUrl,
      wsConnectionParams: () => {
        try { return JSON.parse(localStorage.getItem('graphiql:headers') || '{}'); } catch (e) { return {}; }
      },
    });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultEditorToolsVisibility: true,
        shouldPersistHeaders: true,
        defaultTabs: guide ? [{ query: guide }] : undefined,
      })
    );
  </script>
</body>
</html>
"""


def graphiql_html(*, title: str, guide: str | None = None) -> str:
    """The page, its assets taken from this service (works offline); `guide` opens the first tab."""
    return (_PAGE.replace("__TITLE__", title)
            .replace("__ASSETS__", ASSETS_PATH)
            .replace("__GUIDE__", json.dumps(guide).replace("</", "<\\/")))


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = _FILES.get(name)
    if media_type is None:
        return PlainTextResponse("Not found", status_code=404)
    return FileResponse(ASSETS_DIR / name, media_type=media_type,
                        headers={"cache-control": "public, max-age=86400"})


def asset_route() -> Route:
    """GET /_graphiql/<file>: the vendored GraphiQL, React and their licences."""
    return Route(ASSETS_PATH + "/{name}", _asset, methods=["GET", "HEAD"])
