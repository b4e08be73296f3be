"""Entity representations projected through a fetch's `requires`."""

from __future__ import annotations

from gateway.executor.represent import compile_projector
from gateway.planner.plan import InputField, InputFragment

ENTITY = InputFragment(
    type_condition="Entity",
    types=frozenset({"Entity"}),
    typename="Entity",
    fields=(
        InputField(name="id", source="id", is_key=True),
        InputField(
            name="data",
            source="data",
            selections=(
                InputField(name="__typename", source="__typename"),
                InputField(name="kind", source="kind"),
                InputField(name="radius", source="radius", types=frozenset({"Circle"}), type_condition="Circle"),
                InputField(name="side", source="side", types=frozenset({"Square"}), type_condition="Square"),
            ),
        ),
    ),
)


def test_type_conditioned_fields_only_for_their_type() -> None:
    project = compile_projector((ENTITY,))
    circle = {"__typename": "Entity", "id": "1", "data": {"__typename": "Circle", "kind": "c", "radius": 2}}
    square = {"__typename": "Entity", "id": "2", "data": {"__typename": "Square", "kind": "s", "side": 3}}
    assert project(circle)[1] == {  # type: ignore[index]
        "__typename": "Entity", "id": "1", "data": {"__typename": "Circle", "kind": "c", "radius": 2}
    }
    assert project(square)[1] == {  # type: ignore[index]
        "__typename": "Entity", "id": "2", "data": {"__typename": "Square", "kind": "s", "side": 3}
    }


def test_missing_required_field_or_null_key_drops_the_object() -> None:
    project = compile_projector((ENTITY,))
    assert project({"__typename": "Entity", "id": None, "data": None}) is None
    assert project({"__typename": "Entity", "id": "1", "data": {"__typename": "Circle", "kind": "c"}}) is None
    assert project({"__typename": "Other", "id": "1", "data": None}) is None


def test_flat_representations_dedupe_on_their_values() -> None:
    flat = InputFragment(
        type_condition="User", types=frozenset({"User"}), typename="User",
        fields=(InputField(name="id", source="id", is_key=True),),
    )
    project = compile_projector((flat,))
    first, second = project({"__typename": "User", "id": "7", "name": "x"}), project({"__typename": "User", "id": "7"})
    assert first is not None and second is not None
    assert first[0] == second[0] and first[1] == {"__typename": "User", "id": "7"}
