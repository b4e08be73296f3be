"""Seeded random subgraph sets for the differential test: federation features mixed at random.

Many sets are invalid on purpose (fields shared without @shareable, external without a base...),
so the differential test checks both directions: where Apollo composes we must produce the same
supergraph, and where Apollo refuses we must refuse too.
"""

from __future__ import annotations

import random

from gateway.compose import SubgraphSource

_SCALARS = ["Int", "String", "Boolean", "ID", "Float"]
_ENTITIES = ["Product", "User", "Review"]
_VALUES = ["Money", "Address"]
_FIELDS = ["name", "price", "rating", "title", "count", "flag", "note", "score"]


def _type_ref(rng: random.Random, named: str) -> str:
    shape = rng.random()
    if shape < 0.15:
        return f"[{named}!]"
    if shape < 0.45:
        return f"{named}!"
    return named


def _subgraph(
    rng: random.Random,
    index: int,
    version: str | None,
    types: dict[tuple[str, str], str],
    owners: dict[tuple[str, str], int],
) -> str:
    fed1 = version is None
    lines: list[str] = []
    if not fed1:
        imports = '"@key", "@shareable", "@external", "@requires", "@provides", "@override", "@tag", "@inaccessible"'
        lines.append(
            f'extend schema @link(url: "https://specs.apollo.dev/federation/v{version}", '
            f"import: [{imports}])"
        )
    share = "" if fed1 else " @shareable"
    entities = rng.sample(_ENTITIES, rng.randint(1, len(_ENTITIES)))
    interfaces: set[str] = set()
    provides: dict[str, set[str]] = {}
    query_fields = []
    for entity in entities:
        key = "id" if entity != "Review" or rng.random() < 0.5 else "id kind"
        fields = ["id: ID!"]
        if key == "id kind":
            fields.append("kind: String!")
        chosen = rng.sample(_FIELDS, rng.randint(1, 4))
        externals = []
        for name in chosen:
            roll = rng.random()
            ref = types.setdefault(
                (entity, name), _type_ref(rng, rng.choice(_SCALARS[:3]) if name != "price" else "Int")
            )
            owner = owners.get((entity, name))
            if owner is None:
                # First definition decides: shared by all, or owned by this subgraph.
                owners[(entity, name)] = -1 if (rng.random() < 0.5 or fed1) else index
                if owners[(entity, name)] == -1 and ref.endswith("!") and roll < 0.2 and not fed1:
                    fields.append(f"{name}: {ref[:-1]}{share}")  # compatible: nullable here
                elif owners[(entity, name)] == -1:
                    tag = f' @tag(name: "t{rng.randint(0, 2)}")' if roll > 0.8 and not fed1 else ""
                    fields.append(f"{name}: {ref}{share}{tag}")
                else:
                    fields.append(f"{name}: {ref}")
            elif roll < 0.4 or (owner >= 0 and fed1):
                fields.append(f"{name}: {ref} @external")
                externals.append(name)
            elif owner == -1:
                fields.append(f"{name}: {ref}{share}")
            elif roll < 0.7:
                fields.append(f'{name}: {ref} @override(from: "s{owner}")')
                owners[(entity, name)] = index
            else:
                fields.append(f"{name}: {ref}{' @shareable' if roll < 0.1 else ''}")  # a clash
        if externals:
            fields.append(f'derived{index}: Int @requires(fields: "{" ".join(externals)}")')
        if rng.random() < 0.3:
            other = rng.choice(_ENTITIES)
            provided = [n for (e, n), o in owners.items() if e == other and o == -1]
            if provided and not fed1 and rng.random() < 0.4:
                pick = rng.choice(provided)
                fields.append(f'rel{index}: {other} @provides(fields: "{pick}")')
                provides.setdefault(other, set()).add(pick)
            else:
                fields.append(f"rel{index}: {other}")
            if other not in entities:
                entities.append(other)
        if rng.random() < 0.15 and not fed1:
            fields.append(f'hidden{index}: String @inaccessible')
        if rng.random() < 0.2:
            fields.append(f'"described {index}" old{index}: Int @deprecated(reason: "r{index % 2}")')
        if rng.random() < 0.3:
            fields.append(f"money: Money{share}")
        extend = "extend " if fed1 and rng.random() < 0.5 else ""
        implements = " implements Node" if rng.random() < 0.3 else ""
        if implements:
            interfaces.add(entity)
        resolvable = ", resolvable: false" if rng.random() < 0.1 and not fed1 else ""
        lines.append(
            f'{extend}type {entity}{implements} @key(fields: "{key}"{resolvable}) '
            f'{{ {" ".join(fields)} }}'
        )
        if rng.random() < 0.6:
            query_fields.append(f"{entity.lower()}{index}: {entity}")
    if any("money: Money" in line for line in lines):
        lines.append(f"type Money{share} {{ amount: Int currency: String }}")
    if not fed1 and rng.random() < 0.35:
        # A shared root field whose arguments differ: optional ones are intersected.
        args = ["first: Int = 10"] + (["after: String"] if rng.random() < 0.5 else [])
        if rng.random() < 0.1:
            args.append("strict: Boolean!")
        query_fields.append(f"stats({', '.join(args)}): [Int] @shareable")
    if not fed1 and rng.random() < 0.2:
        lines.append(
            "input Filter { q: String"
            + (" limit: Int = 5" if rng.random() < 0.6 else "")
            + (" must: ID!" if rng.random() < 0.1 else "")
            + " }"
        )
        query_fields.append(f"filter{index}(by: Filter, mode: Level = LOW): Int")
        if not any(line.startswith("enum Level") for line in lines):
            lines.append("enum Level { LOW HIGH }")
    if interfaces:
        lines.append("interface Node { id: ID! }")
        query_fields.append(f"node{index}(id: ID!): Node")
    if rng.random() < 0.25:
        members = sorted(set(rng.sample(entities, rng.randint(1, len(entities)))))
        lines.append("union Hit = " + " | ".join(members))
        query_fields.append(f"search{index}: [Hit]")
    if rng.random() < 0.4:
        lines.append("enum Level { LOW HIGH" + (" MID" if rng.random() < 0.1 else "") + " }")
        query_fields.append(f"level{index}(min: Level): Level")
    if rng.random() < 0.3:
        lines.append("input Page { size: Int" + (" after: String" if rng.random() < 0.5 else "") + " }")
        query_fields.append(f"page{index}(page: Page): Int")
    if query_fields or index == 0:
        query_fields = query_fields or [f"ping{index}: String"]
        lines.append(("extend " if fed1 else "") + "type Query { " + " ".join(query_fields) + " }")
    # Entities referenced but not defined here get a bare key-only stub.
    defined = {
        line.split()[2] if line.startswith("extend") else line.split()[1]
        for line in lines
        if line.startswith(("type ", "extend type "))
    }
    for entity in entities:
        if entity not in defined:
            lines.append(
                f'extend type {entity} @key(fields: "id") {{ id: ID! @external }}'
                if fed1
                else f'type {entity} @key(fields: "id", resolvable: false) {{ id: ID! }}'
            )
    # A @provides needs the provided field declared @external on the target type here.
    for other, picks in provides.items():
        for i, line in enumerate(lines):
            if line.startswith((f"type {other} ", f"extend type {other} ")):
                extra = " ".join(
                    f"{pick}: {types[(other, pick)]} @external"
                    for pick in sorted(picks)
                    if f" {pick}:" not in line
                )
                lines[i] = line[: line.rindex("}")] + extra + " }"
    return "\n".join(lines) + "\n"


def random_sets(seed: int, count: int) -> dict[str, list[SubgraphSource]]:
    """`count` subgraph sets, reproducible from `seed`."""
    rng = random.Random(seed)
    sets = {}
    for n in range(count):
        size = rng.randint(2, 4)
        versions = [
            None if rng.random() < 0.15 else f"2.{rng.choice([0, 1, 3, 5, 7, 8, 9])}"
            for _ in range(size)
        ]
        types: dict[tuple[str, str], str] = {}
        owners: dict[tuple[str, str], int] = {}
        sets[f"random_{seed}_{n}"] = [
            SubgraphSource(
                name=f"s{i}",
                url=f"http://127.0.0.1:{4100 + i}/graphql",
                sdl=_subgraph(rng, i, v, types, owners),
            )
            for i, v in enumerate(versions)
        ]
    return sets
