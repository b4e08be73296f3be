"""The development stack: every subgraph and the gateway in one process, and the SDL export.

It lives outside `gateway/` because it imports the subgraphs; the gateway itself never does.
"""

__all__: list[str] = []
