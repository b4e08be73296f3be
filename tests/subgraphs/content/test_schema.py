"""The content schema executed directly: entities, visibility, the reference rule, migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.auth import ANONYMOUS, Caller
from shared.context import RequestContext
from subgraphs.content.config import ContentSettings
from subgraphs.content.models import Media, metadata
from subgraphs.content.runtime import build_runtime
from subgraphs.content.schema import schema
from tests.subgraphs._references import non_null_references

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Media { id status kind owner { id } filename }
  ... on User { id media { id status } } } }"""


async def _run(database, kv, tmp_path, query, variables=None, *, user=None):
    settings = ContentSettings(environment="test", storage_dir=str(tmp_path))
    context = RequestContext(caller=Caller(user_id=user) if user else ANONYMOUS,
                             request_id="test", database=database, kv=kv, settings=settings,
                             request=None)  # type: ignore[arg-type]
    context.extra["content"] = build_runtime(settings, database)
    return await schema.execute(query, variable_values=variables, context_value=context)


async def _add(database, media_id: str, owner: str, status: str) -> None:
    async with database.session() as session, session.begin():
        session.add(Media(id=media_id, owner_id=owner, kind="VIDEO", status=status,
                          filename=f"{media_id}.mp4", size=10))


def test_sdl_declares_media_and_extends_user():
    sdl = schema.as_str()
    assert 'type Media @key(fields: "id")' in sdl
    assert 'type User @key(fields: "id")' in sdl
    assert "createUpload(kind: MediaKind!, filename: String!, size: Int!): CreateUploadPayload!" in sdl
    assert "enum MediaStatus {\n  UPLOADING\n  UPLOADED\n  PROCESSING\n  READY\n  FAILED\n}" in sdl


def test_references_to_identitys_users_are_nullable():
    assert non_null_references(schema._schema, {"User"}) == []


async def test_entities_show_others_only_ready_media(database, kv, tmp_path):
    await _add(database, "ready1", "alice", "READY")
    await _add(database, "draft1", "alice", "UPLOADING")
    def representations():  # a fresh list each time: strawberry consumes `__typename`
        return [*({"__typename": "Media", "id": i} for i in ("ready1", "draft1", "nothing")),
                {"__typename": "User", "id": "alice"}]

    as_bob = await _run(database, kv, tmp_path, ENTITIES, {"r": representations()}, user="bob")
    assert as_bob.errors is None
    assert as_bob.data["_entities"] == [
        {"id": "ready1", "status": "READY", "kind": "VIDEO", "owner": {"id": "alice"},
         "filename": None},
        None, None, {"id": "alice", "media": [{"id": "ready1", "status": "READY"}]}]
    as_alice = await _run(database, kv, tmp_path, ENTITIES, {"r": representations()},
                          user="alice")
    assert as_alice.data["_entities"][1] == {"id": "draft1", "status": "UPLOADING",
                                             "kind": "VIDEO", "owner": {"id": "alice"},
                                             "filename": "draft1.mp4"}
    assert {m["id"] for m in as_alice.data["_entities"][3]["media"]} == {"ready1", "draft1"}


async def test_migrated_schema_matches_models(database):
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": "alembic_version_content"})
        return compare_metadata(context, metadata)

    async with database.engine.connect() as connection:
        changes = await connection.run_sync(diff)
        version = (await connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version_content")).scalar()
    assert changes == []
    assert version == "0003"
