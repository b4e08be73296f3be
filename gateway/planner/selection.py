"""Subgraph selection sets under construction: ordered, merge-by-key, printable."""

from __future__ import annotations

from collections.abc import Iterator


class Selection:
    """A selection set keyed by its printed head (`alias: name(args)`, `... on T`, `... @include`).

    Merging two requests for the same field is a dict lookup, and printing is a walk; the fetch
    graph builder only ever adds to these.
    """

    __slots__ = ("items", "response_names")

    def __init__(self) -> None:
        self.items: dict[str, Selection | None] = {}
        self.response_names: dict[str, str] = {}  # response name -> head, to detect clashes

    def add_leaf(self, head: str, response_name: str | None = None) -> None:
        self.items.setdefault(head, None)
        if response_name is not None:
            self.response_names.setdefault(response_name, head)

    def child(self, head: str, response_name: str | None = None) -> Selection:
        existing = self.items.get(head)
        if existing is None:
            existing = Selection()
            self.items[head] = existing
            if response_name is not None:
                self.response_names.setdefault(response_name, head)
        return existing

    def head_for(self, response_name: str) -> str | None:
        return self.response_names.get(response_name)

    def __bool__(self) -> bool:
        return bool(self.items)

    def print(self) -> str:
        return "{" + " ".join(self._parts()) + "}"

    def _parts(self) -> Iterator[str]:
        for head, sub in self.items.items():
            if sub is None:
                yield head
            elif sub.items:
                yield f"{head} {sub.print()}"
            elif not head.startswith("..."):
                yield f"{head} {{__typename}}"

    def pretty(self, indent: int = 0) -> list[str]:
        pad = "  " * indent
        lines = []
        for head, sub in self.items.items():
            if sub is None:
                lines.append(pad + head)
            elif sub.items:
                lines.append(f"{pad}{head} {{")
                lines.extend(sub.pretty(indent + 1))
                lines.append(pad + "}")
        return lines


def merge_selection(target: Selection, source: Selection) -> None:
    """Add everything `source` selects into `target`."""
    for head, sub in source.items.items():
        if sub is None:
            target.items.setdefault(head, None)
        else:
            merge_selection(target.child(head), sub)
    for name, head in source.response_names.items():
        target.response_names.setdefault(name, head)
