"""The social schema executed directly: federation entities, SDL, error codes, main flows."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from shared.auth import ANONYMOUS, Caller
from shared.context import RequestContext
from shared.internal import InternalClient
from shared.references import References
from shared.service_auth import ServiceIdentity
from subgraphs.social.config import SocialSettings
from subgraphs.social.schema import schema
from tests._peers import peer_stack

# Everyone these tests name; any other id is unknown to identity.
PEOPLE = ("a", "b", "c", "u", "v", "x", "star", "alice", "bob", "carol", "stranger")


def _references() -> References:
    stack = peer_stack()
    stack.add_users(*PEOPLE)
    return References(InternalClient(ServiceIdentity(name="social", keys=stack.keys["social"]),
                                     stack.urls))
from tests.subgraphs._references import non_null_references


async def run(database, kv, query: str, variables: dict[str, Any] | None = None, *, user: str | None = None):
    context = RequestContext(
        caller=Caller(user_id=user) if user else ANONYMOUS, request_id="test", database=database,
        kv=kv, settings=SocialSettings(environment="test"), request=None,  # type: ignore[arg-type]
        references=_references(),
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    errors = [{"message": e.message, "code": (e.extensions or {}).get("code")} for e in result.errors or ()]
    return result.data, errors


def codes(errors) -> list[str]:
    return [e["code"] for e in errors]


def test_sdl_declares_entities_and_the_media_stub():
    sdl = schema.as_str()
    assert 'type User @key(fields: "id")' in sdl
    assert 'type Post @key(fields: "id")' in sdl
    assert 'type Media @key(fields: "id", resolvable: false)' in sdl


def test_references_to_other_subgraphs_entities_are_nullable():
    # identity owns User, content will own Media: a ghost id must null one field or list item,
    # not a follow list, a feed or a conversation
    assert non_null_references(schema._schema, {"User", "Media"}) == []


async def test_user_entity_carries_social_counts(database, kv):
    call = partial(run, database, kv)
    for follower in ("a", "b"):
        _, errors = await call('mutation { follow(userId: "star") { id } }', user=follower)
        assert errors == []
    data, errors = await call(
        """query($r: [_Any!]!) { _entities(representations: $r) {
             ... on User { id followersCount followingCount isFollowedByMe
                           followers(first: 1) { edges { node { id } } pageInfo { hasNextPage } } } } }""",
        {"r": [{"__typename": "User", "id": "star"}, {"__typename": "User", "id": "a"}]},
        user="a",
    )
    assert errors == []
    assert data["_entities"] == [
        {"id": "star", "followersCount": 2, "followingCount": 0, "isFollowedByMe": True,
         "followers": {"edges": [{"node": {"id": "b"}}], "pageInfo": {"hasNextPage": True}}},
        {"id": "a", "followersCount": 0, "followingCount": 1, "isFollowedByMe": False,
         "followers": {"edges": [], "pageInfo": {"hasNextPage": False}}},
    ]


async def test_post_flow_through_graphql(database, kv):
    call = partial(run, database, kv)
    data, errors = await call(
        """mutation { createPost(input: {text: "hi", visibility: FOLLOWERS}) {
             id visibility author { id } media { id } } }""", user="alice")
    assert errors == []
    post = data["createPost"]
    assert post["visibility"] == "FOLLOWERS" and post["author"] == {"id": "alice"}
    assert post["media"] == []
    entity = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Post { id text } } }"""
    data, errors = await call(entity, {"r": [{"__typename": "Post", "id": post["id"]}]}, user="stranger")
    assert errors == [] and data == {"_entities": [None]}  # not visible to a non-follower
    await call('mutation { follow(userId: "alice") { id } }', user="bob")
    data, errors = await call(entity, {"r": [{"__typename": "Post", "id": post["id"]}]}, user="bob")
    assert data == {"_entities": [{"id": post["id"], "text": "hi"}]}
    _, errors = await call('mutation($p: ID!) { react(postId: $p, kind: LOVE) { id } }', {"p": post["id"]}, user="bob")
    assert errors == []
    data, errors = await call(
        'mutation($p: ID!) { addComment(input: {postId: $p, text: "nice"}) { id author { id } post { id } } }',
        {"p": post["id"]}, user="bob")
    assert errors == [] and data["addComment"]["post"] == {"id": post["id"]}
    data, errors = await call(
        """{ homeFeed(first: 5) { edges { cursor node { id reactionsCount commentsCount myReaction
              comments { nodes { text author { id } } } } } pageInfo { hasNextPage } } }""", user="bob")
    assert errors == []
    [edge] = data["homeFeed"]["edges"]
    assert edge["node"] == {"id": post["id"], "reactionsCount": 1, "commentsCount": 1, "myReaction": "LOVE",
                            "comments": {"nodes": [{"text": "nice", "author": {"id": "bob"}}]}}
    data, errors = await call("{ notifications { nodes { kind actor { id } } } unreadNotificationCount }", user="alice")
    assert errors == []
    assert [n["kind"] for n in data["notifications"]["nodes"]] == ["COMMENT", "REACTION", "FOLLOW"]
    assert data["unreadNotificationCount"] == 3
    data, _ = await call("mutation { markNotificationsRead }", user="alice")
    assert data == {"markNotificationsRead": 3}


async def test_conversation_messages_have_user_references(database, kv):
    call = partial(run, database, kv)
    data, _ = await call('mutation { openDirectConversation(userId: "bob") { id kind } }', user="alice")
    conversation = data["openDirectConversation"]
    assert conversation["kind"] == "DIRECT"
    await call('mutation($c: ID!) { sendMessage(conversationId: $c, text: "yo") { id } }', {"c": conversation["id"]}, user="alice")
    data, errors = await call(
        """query($c: ID!) { conversation(id: $c) { unreadCount members { user { id } }
             messages(first: 5) { nodes { text sender { id } } } } }""", {"c": conversation["id"]}, user="bob")
    assert errors == []
    assert data["conversation"] == {
        "unreadCount": 1, "members": [{"user": {"id": "alice"}}, {"user": {"id": "bob"}}],
        "messages": {"nodes": [{"text": "yo", "sender": {"id": "alice"}}]},
    }


async def test_bad_input_gets_coded_errors(database, kv):
    call = partial(run, database, kv)
    cases = [
        ("{ homeFeed { edges { cursor } } }", None, None, "UNAUTHENTICATED"),
        ("{ homeFeed(first: 0) { edges { cursor } } }", None, "u", "BAD_USER_INPUT"),
        ("{ homeFeed(first: 100000) { edges { cursor } } }", None, "u", "BAD_USER_INPUT"),
        ('{ homeFeed(after: "not-a-cursor") { edges { cursor } } }', None, "u", "BAD_USER_INPUT"),
        ('{ trendingFeed(after: "eyJ4Ijox") { edges { cursor } } }', None, "u", "BAD_USER_INPUT"),
        ('mutation { createPost(input: {text: "x", visibility: CIRCLE}) { id } }', None, "u", "BAD_USER_INPUT"),
        ('mutation { createPost(input: {text: ""}) { id } }', None, "u", "BAD_USER_INPUT"),
        ('mutation { follow(userId: "u") { id } }', None, "u", "BAD_USER_INPUT"),
        ('{ post(id: "missing") { id } }', None, "u", "NOT_FOUND"),
        ('{ circle(id: "missing") { id } }', None, "u", "NOT_FOUND"),
        ('{ conversation(id: "missing") { id } }', None, "u", "FORBIDDEN"),
        ('mutation { sendMessage(conversationId: "missing", text: "x") { id } }', None, "u", "FORBIDDEN"),
        ('mutation { createConversation(memberIds: []) { id } }', None, "u", "BAD_USER_INPUT"),
        ('{ presence(userIds: ["a"]) { status } }', None, None, "UNAUTHENTICATED"),
    ]
    for query, variables, user, code in cases:
        _data, errors = await call(query, variables, user=user)
        assert codes(errors) == [code], (query, errors)


# the checked-in contract (`make schema` writes it), shared with composition
GOLDEN = Path(__file__).parents[3] / "schema" / "social.graphql"


def exported_sdl(target=schema) -> str:
    result = target.execute_sync("{ _service { sdl } }")
    assert result.errors is None
    return str(result.data["_service"]["sdl"]).rstrip() + "\n"


def test_sdl_matches_golden_copy():
    # After an intended schema change, run `make schema` and commit schema/.
    assert exported_sdl() == GOLDEN.read_text()


def test_composes_with_identity_and_wallet():
    """`User` (identity's) and `Post` (extended by wallet) must compose without conflicts."""
    from gateway.compose import SubgraphSource, compose
    from subgraphs.wallet.schema import schema as wallet

    # identity's golden SDL, which identity's own tests keep equal to its exported SDL.
    identity_sdl = (Path(__file__).parents[3] / "schema" / "identity.graphql").read_text()
    result = compose([
        SubgraphSource("identity", "http://127.0.0.1:4101/graphql", identity_sdl),
        SubgraphSource("social", "http://127.0.0.1:4102/graphql", exported_sdl()),
        SubgraphSource("wallet", "http://127.0.0.1:4103/graphql", exported_sdl(wallet)),
    ])
    assert result.errors == ()
    assert "SOCIAL" in (result.supergraph_sdl or "")


async def test_writes_are_rate_limited_per_user(database, kv):
    from shared.context import RequestContext

    settings = SocialSettings(environment="test", message_rate_limit=2)
    context = partial(RequestContext, request_id="t", database=database, kv=kv, settings=settings, request=None,
                      references=_references())
    # b follows a, so a's DM is a conversation b may answer at once (not a message request).
    await schema.execute('mutation { follow(userId: "a") { id } }', context_value=context(caller=Caller(user_id="b")))
    data = await schema.execute('mutation { openDirectConversation(userId: "b") { id } }',
                                context_value=context(caller=Caller(user_id="a")))
    conversation_id = data.data["openDirectConversation"]["id"]
    send = 'mutation($c: ID!) { sendMessage(conversationId: $c, text: "x") { id } }'
    results = [await schema.execute(send, variable_values={"c": conversation_id},
                                    context_value=context(caller=Caller(user_id="a"))) for _ in range(3)]
    assert [r.errors is None for r in results] == [True, True, False]
    error = results[2].errors[0]
    assert error.extensions["code"] == "RATE_LIMITED" and error.extensions["retryAfter"] > 0
    other = await schema.execute(send, variable_values={"c": conversation_id},
                                 context_value=context(caller=Caller(user_id="b")))
    assert other.errors is None  # the limit is per user


async def test_hostile_input_is_bad_user_input_not_a_database_error(database, kv):
    """Over-long ids and NUL characters would make PostgreSQL fail; they are refused up front."""
    call = partial(run, database, kv)
    long_id = "x" * 65
    data, _ = await call('mutation { createCircle(name: "c") { id } }', user="u")
    circle_id = data["createCircle"]["id"]
    cases = [
        ("mutation($u: ID!) { follow(userId: $u) { id } }", {"u": long_id}),
        ("mutation($u: ID!) { openDirectConversation(userId: $u) { id } }", {"u": long_id}),
        ("mutation($u: ID!) { createConversation(memberIds: [$u]) { id } }", {"u": long_id}),
        ('mutation($t: String!) { createConversation(memberIds: ["v"], title: $t) { id } }', {"t": "a\x00b"}),
        ("mutation($t: String!) { createPost(input: {text: $t}) { id } }", {"t": "a\x00b"}),
        ('mutation($u: ID!) { createPost(input: {text: "t", mediaIds: [$u]}) { id } }', {"u": long_id}),
        ('mutation($u: ID!) { createPost(input: {text: "t", mentionUserIds: [$u]}) { id } }', {"u": ""}),
        ("mutation($n: String!) { createCircle(name: $n) { id } }", {"n": "a\x00"}),
        ("mutation($c: ID!, $u: ID!) { addCircleMember(circleId: $c, userId: $u) { role } }", {"c": circle_id, "u": long_id}),
        ('mutation($p: ID!) { react(postId: $p, kind: LIKE) { id } }', {"p": long_id}),
    ]
    for query, variables in cases:
        _data, errors = await call(query, variables, user="u")
        assert codes(errors) in (["BAD_USER_INPUT"], ["NOT_FOUND"]), (query, errors)
    data, errors = await call("{ myCircles { nodes { id } } notifications { nodes { id } } }", user="u")
    assert errors == [] and len(data["myCircles"]["nodes"]) == 1 and data["notifications"]["nodes"] == []


async def test_writes_naming_unknown_users_write_nothing(database, kv):
    call = partial(run, database, kv)
    ghost = "nobody-has-this-id"
    data, _ = await call('mutation { createCircle(name: "c") { id } }', user="u")
    circle_id = data["createCircle"]["id"]
    cases = [
        ("mutation($u: ID!) { follow(userId: $u) { id } }", {"u": ghost}),
        ("mutation($u: ID!) { openDirectConversation(userId: $u) { id } }", {"u": ghost}),
        ("mutation($u: ID!) { createConversation(memberIds: [\"v\", $u]) { id } }", {"u": ghost}),
        ('mutation($u: ID!) { createPost(input: {text: "t", mentionUserIds: [$u]}) { id } }', {"u": ghost}),
        ("mutation($c: ID!, $u: ID!) { addCircleMember(circleId: $c, userId: $u) { role } }",
         {"c": circle_id, "u": ghost}),
    ]
    for query, variables in cases:
        _data, errors = await call(query, variables, user="u")
        assert codes(errors) == ["NOT_FOUND"], (query, errors)
        assert ghost in errors[0]["message"]
    # A post naming media content does not know is refused, naming the id.
    _data, errors = await call('mutation { createPost(input: {text: "t", mediaIds: ["m1"]}) { id } }', user="u")
    assert codes(errors) == ["NOT_FOUND"] and "'m1'" in errors[0]["message"]
    async with database.session() as session:
        from sqlalchemy import func, select

        from subgraphs.social.models import Conversation, Follow, Post

        for model in (Follow, Post, Conversation):
            count = (await session.execute(select(func.count()).select_from(model))).scalar_one()
            assert count == 0, model


async def test_a_post_takes_only_the_authors_own_ready_media(database, kv):
    """content says who owns each media and whether it is READY; social asks before writing."""
    call = partial(run, database, kv)
    stack = peer_stack()
    stack.add_media("mediaready1", "mediaready2", owner_id="u")
    stack.add_media("mediauploading", owner_id="u", status="UPLOADING")
    stack.add_media("mediaofv", owner_id="v")
    for media_id in ("mediauploading", "mediaofv"):
        _data, errors = await call("mutation($m: ID!) { createPost(input: {text: \"t\", "
                                   "mediaIds: [\"mediaready1\", $m]}) { id } }", {"m": media_id},
                                   user="u")
        assert codes(errors) == ["BAD_USER_INPUT"], (media_id, errors)
        assert repr(media_id) in errors[0]["message"] and "mediaready1" not in errors[0]["message"]
    async with database.session() as session:
        from sqlalchemy import func, select

        from subgraphs.social.models import Post, PostMedia

        for model in (Post, PostMedia):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0
    data, errors = await call('mutation { createPost(input: {text: "t", mediaIds: '
                              '["mediaready2", "mediaready1"]}) { id media { id } } }', user="u")
    assert errors == []
    assert data["createPost"]["media"] == [{"id": "mediaready2"}, {"id": "mediaready1"}]
