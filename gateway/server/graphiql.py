"""The gateway's GraphiQL page: the shared page (assets shipped with the project) with a guide tab."""

from shared.graphiql import GUIDE, graphiql_html

__all__ = ["GRAPHIQL_HTML"]

GRAPHIQL_HTML = graphiql_html(title="Tributary · GraphiQL", guide=GUIDE)
