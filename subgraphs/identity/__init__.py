"""The identity subgraph: accounts, sign-in (password, wallet), tokens, API keys, audit log.

Entry points: `subgraphs.identity.app.create_app` and `subgraphs.identity.schema.schema`.
"""
