"""Privacy and consent through the schema: private accounts, blocks, message requests, group
invitations and group history. Identity is the real peer service (tests/_peers.py)."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import func, select

from subgraphs.social.models import (
    Block,
    Conversation,
    Follow,
    FollowRequest,
    Message,
    Notification,
)

from .test_schema import codes

FOLLOW = "mutation($u: ID!) { follow(userId: $u) { id } }"
PRIVATE = "mutation($p: Boolean!) { updatePrivacySettings(isPrivate: $p) { isPrivate allowGroupAddsFromFollowing } }"
POST = "mutation($t: String!, $v: Visibility!) { createPost(input: {text: $t, visibility: $v}) { id } }"
READ_POST = "query($id: ID!) { post(id: $id) { text } }"
RELATION = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on User { id isPrivate isFollowedByMe followRequestPending isBlockedByMe followersCount followingCount } } }"""
OPEN_DIRECT = "mutation($u: ID!) { openDirectConversation(userId: $u) { id } }"
SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"
MESSAGES = "query($c: ID!) { conversation(id: $c) { myStatus unreadCount messages { nodes { text } } } }"
GROUP = """mutation($m: [ID!]!, $h: Boolean!) {
  createConversation(memberIds: $m, title: "g", shareHistory: $h) { id shareHistory } }"""
MEMBERS = "query($c: ID!) { conversation(id: $c) { title members { user { id } status } } }"


def reasons(errors: list[dict[str, Any]]) -> list[str | None]:
    return [e.get("reason") for e in errors]


async def call(database, kv, query: str, variables: dict[str, Any] | None = None, *, user: str | None = None):
    """Like test_schema.run, also exposing each error's `reason`."""
    from shared.auth import ANONYMOUS, Caller
    from shared.context import RequestContext
    from subgraphs.social.config import SocialSettings
    from subgraphs.social.schema import schema

    from .test_schema import _references

    context = RequestContext(
        caller=Caller(user_id=user) if user else ANONYMOUS, request_id="test", database=database,
        kv=kv, settings=SocialSettings(environment="test"), request=None,  # type: ignore[arg-type]
        references=_references(),
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    errors = [{"message": e.message, "code": (e.extensions or {}).get("code"),
               "reason": (e.extensions or {}).get("reason")} for e in result.errors or ()]
    return result.data, errors


async def ok(database, kv, query: str, variables: dict[str, Any] | None = None, *, user: str) -> dict[str, Any]:
    data, errors = await call(database, kv, query, variables, user=user)
    assert errors == [], (query, errors)
    return data


async def relation(database, kv, viewer: str, user_id: str) -> dict[str, Any]:
    data = await ok(database, kv, RELATION, {"r": [{"__typename": "User", "id": user_id}]}, user=viewer)
    return data["_entities"][0]


async def count(database, model, *where) -> int:
    async with database.session() as session:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        return int((await session.execute(query)).scalar_one())


async def notification_kinds(database, user_id: str) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(
            select(Notification.kind).where(Notification.user_id == user_id).order_by(Notification.created_at))
        return list(rows.scalars())


# --- private accounts -------------------------------------------------------------------


async def test_following_a_private_account_is_a_request_the_owner_approves(database, kv):
    q = partial(ok, database, kv)
    assert (await q(PRIVATE, {"p": True}, user="alice"))["updatePrivacySettings"] == {
        "isPrivate": True, "allowGroupAddsFromFollowing": True}
    secret = (await q(POST, {"t": "followers only", "v": "FOLLOWERS"}, user="alice"))["createPost"]["id"]

    await q(FOLLOW, {"u": "alice"}, user="bob")
    await q(FOLLOW, {"u": "alice"}, user="bob")  # idempotent: still one request
    assert await relation(database, kv, "bob", "alice") == {
        "id": "alice", "isPrivate": True, "isFollowedByMe": False, "followRequestPending": True,
        "isBlockedByMe": False, "followersCount": 0, "followingCount": 0}
    _, errors = await call(database, kv, READ_POST, {"id": secret}, user="bob")
    assert codes(errors) == ["NOT_FOUND"]  # a request is not a follow
    requests = await q("{ followRequests { edges { node { id } } } }", user="alice")
    assert requests["followRequests"]["edges"] == [{"node": {"id": "bob"}}]
    assert (await q("{ followRequests { edges { node { id } } } }", user="bob"))["followRequests"]["edges"] == []

    await q('mutation { approveFollowRequest(userId: "bob") { id } }', user="alice")
    assert (await q(READ_POST, {"id": secret}, user="bob"))["post"] == {"text": "followers only"}
    assert (await relation(database, kv, "bob", "alice"))["followersCount"] == 1
    assert await notification_kinds(database, "alice") == ["follow_request"]
    assert await notification_kinds(database, "bob") == ["follow_accepted"]
    # Nothing left to approve: NOT_FOUND, no second follow.
    _, errors = await call(database, kv, 'mutation { approveFollowRequest(userId: "bob") { id } }', user="alice")
    assert codes(errors) == ["NOT_FOUND"]
    assert await count(database, Follow) == 1


async def test_a_declined_request_leaves_no_follow_and_the_requester_can_withdraw(database, kv):
    q = partial(ok, database, kv)
    await q(PRIVATE, {"p": True}, user="alice")
    await q(FOLLOW, {"u": "alice"}, user="carol")
    await q(FOLLOW, {"u": "alice"}, user="bob")
    assert (await q('mutation { declineFollowRequest(userId: "carol") }', user="alice")) == {"declineFollowRequest": True}
    assert (await q('mutation { declineFollowRequest(userId: "carol") }', user="alice")) == {"declineFollowRequest": False}
    assert (await relation(database, kv, "carol", "alice"))["followRequestPending"] is False
    await q('mutation { unfollow(userId: "alice") { id } }', user="bob")  # withdraws the request
    assert await count(database, FollowRequest) == 0
    assert await count(database, Follow) == 0


async def test_followers_posts_of_a_public_account_reach_anyone_who_follows(database, kv):
    """The documented rule: on a public account a follow needs no approval, so FOLLOWERS means
    anyone who follows; making the account private is how an owner chooses its followers."""
    q = partial(ok, database, kv)
    post = (await q(POST, {"t": "for followers", "v": "FOLLOWERS"}, user="alice"))["createPost"]["id"]
    _, errors = await call(database, kv, READ_POST, {"id": post}, user="bob")
    assert codes(errors) == ["NOT_FOUND"]
    await q(FOLLOW, {"u": "alice"}, user="bob")
    assert (await q(READ_POST, {"id": post}, user="bob"))["post"] == {"text": "for followers"}


async def test_going_private_keeps_followers_until_removed_and_going_public_approves(database, kv):
    q = partial(ok, database, kv)
    await q(FOLLOW, {"u": "alice"}, user="bob")
    await q(PRIVATE, {"p": True}, user="alice")
    post = (await q(POST, {"t": "inner", "v": "FOLLOWERS"}, user="alice"))["createPost"]["id"]
    assert (await q(READ_POST, {"id": post}, user="bob"))["post"] == {"text": "inner"}
    assert await q('mutation { removeFollower(userId: "bob") }', user="alice") == {"removeFollower": True}
    _, errors = await call(database, kv, READ_POST, {"id": post}, user="bob")
    assert codes(errors) == ["NOT_FOUND"]
    await q(FOLLOW, {"u": "alice"}, user="carol")
    await q(PRIVATE, {"p": False}, user="alice")
    assert (await relation(database, kv, "carol", "alice"))["isFollowedByMe"] is True
    assert await count(database, FollowRequest) == 0


# --- blocking ---------------------------------------------------------------------------


async def test_a_block_ends_follows_and_refuses_follow_dm_mention_group_and_reply(database, kv):
    q = partial(ok, database, kv)
    await q(FOLLOW, {"u": "bob"}, user="alice")
    await q(FOLLOW, {"u": "alice"}, user="bob")
    public = (await q(POST, {"t": "public", "v": "PUBLIC"}, user="alice"))["createPost"]["id"]
    direct = (await q(OPEN_DIRECT, {"u": "bob"}, user="alice"))["openDirectConversation"]["id"]
    await q('mutation { block(userId: "bob") { id isBlockedByMe } }', user="alice")

    assert await count(database, Follow) == 0
    assert (await relation(database, kv, "alice", "bob"))["isBlockedByMe"] is True
    # The blocked user learns nothing from its own view of the blocker.
    assert await relation(database, kv, "bob", "alice") == {
        "id": "alice", "isPrivate": False, "isFollowedByMe": False, "followRequestPending": False,
        "isBlockedByMe": False, "followersCount": 0, "followingCount": 0}
    blocked_list = "{ myBlockedUsers { edges { node { id } } } }"
    assert (await q(blocked_list, user="alice"))["myBlockedUsers"]["edges"] == [{"node": {"id": "bob"}}]
    assert (await q(blocked_list, user="bob"))["myBlockedUsers"]["edges"] == []

    messages_before = await count(database, Message)
    attempts = [
        (FOLLOW, {"u": "alice"}),
        (OPEN_DIRECT, {"u": "alice"}),
        (SEND, {"c": direct, "t": "still there?"}),
        ('mutation($u: ID!) { createPost(input: {text: "hey", mentionUserIds: [$u]}) { id } }', {"u": "alice"}),
        (GROUP, {"m": ["alice", "carol"], "h": False}),
        ('mutation($p: ID!) { addComment(input: {postId: $p, text: "hm"}) { id } }', {"p": public}),
    ]
    for query, variables in attempts:
        _, errors = await call(database, kv, query, variables, user="bob")
        assert codes(errors) == ["FORBIDDEN"] and reasons(errors) == ["NOT_ALLOWED"], (query, errors)
        assert "block" not in errors[0]["message"].lower(), errors
    # The blocker is told why, and can lift it.
    _, errors = await call(database, kv, FOLLOW, {"u": "bob"}, user="alice")
    assert reasons(errors) == ["BLOCKED"]
    assert (await count(database, Follow), await count(database, Message)) == (0, messages_before)
    assert await count(database, Conversation, Conversation.kind == "group") == 0
    assert (await q(READ_POST, {"id": public}, user="bob"))["post"] == {"text": "public"}

    await q('mutation { unblock(userId: "bob") { id } }', user="alice")
    await q(FOLLOW, {"u": "alice"}, user="bob")
    assert await count(database, Follow) == 1 and await count(database, Block) == 0


async def test_a_blocked_user_loses_the_blockers_non_public_posts(database, kv):
    q = partial(ok, database, kv)
    circle = (await q('mutation { createCircle(name: "close") { id } }', user="alice"))["createCircle"]["id"]
    await q('mutation($c: ID!) { addCircleMember(circleId: $c, userId: "bob") { role } }', {"c": circle}, user="alice")
    inner = (await q('mutation($c: ID!) { createPost(input: {text: "inner", visibility: CIRCLE, circleId: $c}) { id } }',
                     {"c": circle}, user="alice"))["createPost"]["id"]
    public = (await q(POST, {"t": "out loud", "v": "PUBLIC"}, user="alice"))["createPost"]["id"]
    feed = "query($c: ID!) { circleFeed(circleId: $c) { nodes { text } } homeFeed { nodes { text } } }"
    seen = await q(feed, {"c": circle}, user="bob")
    assert seen["circleFeed"]["nodes"] == [{"text": "inner"}] and seen["homeFeed"]["nodes"] == [{"text": "inner"}]

    await q('mutation { block(userId: "bob") { id } }', user="alice")
    seen = await q(feed, {"c": circle}, user="bob")
    assert seen == {"circleFeed": {"nodes": []}, "homeFeed": {"nodes": []}}
    _, errors = await call(database, kv, READ_POST, {"id": inner}, user="bob")
    assert codes(errors) == ["NOT_FOUND"]
    assert (await q(READ_POST, {"id": public}, user="bob"))["post"] == {"text": "out loud"}
    # Other members still see it.
    await q('mutation($c: ID!) { addCircleMember(circleId: $c, userId: "carol") { role } }', {"c": circle}, user="alice")
    assert (await q(feed, {"c": circle}, user="carol"))["circleFeed"]["nodes"] == [{"text": "inner"}]


async def test_a_block_drops_the_blocked_users_pending_request_and_invitation(database, kv):
    q = partial(ok, database, kv)
    await q(PRIVATE, {"p": True}, user="alice")
    await q(FOLLOW, {"u": "alice"}, user="bob")
    await q(OPEN_DIRECT, {"u": "alice"}, user="bob")
    await q(GROUP, {"m": ["alice", "carol"], "h": False}, user="bob")
    assert len((await q("{ conversationRequests { nodes { id } } }", user="alice"))["conversationRequests"]["nodes"]) == 2
    await q('mutation { block(userId: "bob") { id } }', user="alice")
    assert (await q("{ conversationRequests { nodes { id } } }", user="alice"))["conversationRequests"]["nodes"] == []
    assert await count(database, FollowRequest) == 0


# --- message requests -------------------------------------------------------------------


async def test_a_dm_from_someone_not_followed_is_a_request_until_accepted(database, kv):
    q = partial(ok, database, kv)
    direct = (await q(OPEN_DIRECT, {"u": "bob"}, user="alice"))["openDirectConversation"]["id"]
    await q(SEND, {"c": direct, "t": "hello?"}, user="alice")
    await q(SEND, {"c": direct, "t": "are you there"}, user="alice")
    assert (await q("{ myConversations { nodes { id } } }", user="bob"))["myConversations"]["nodes"] == []
    assert (await q("{ conversationRequests { nodes { id } } }", user="bob"))["conversationRequests"]["nodes"] == [
        {"id": direct}]
    assert (await q("{ myConversations { nodes { id } } }", user="alice"))["myConversations"]["nodes"] == [
        {"id": direct}]
    # The recipient may read the request to decide, but not answer it yet.
    assert (await q(MESSAGES, {"c": direct}, user="bob"))["conversation"] == {
        "myStatus": "REQUESTED", "unreadCount": 2,
        "messages": {"nodes": [{"text": "are you there"}, {"text": "hello?"}]}}
    _, errors = await call(database, kv, SEND, {"c": direct, "t": "hi"}, user="bob")
    assert codes(errors) == ["FORBIDDEN"] and reasons(errors) == ["REQUEST_PENDING"]
    assert await notification_kinds(database, "bob") == ["message_request"]

    await q("mutation($c: ID!) { acceptConversation(conversationId: $c) { id } }", {"c": direct}, user="bob")
    await q(SEND, {"c": direct, "t": "hi"}, user="bob")
    assert (await q("{ myConversations { nodes { id } } }", user="bob"))["myConversations"]["nodes"] == [
        {"id": direct}]


async def test_a_declined_request_is_gone_and_a_followed_sender_lands_directly(database, kv):
    q = partial(ok, database, kv)
    direct = (await q(OPEN_DIRECT, {"u": "bob"}, user="carol"))["openDirectConversation"]["id"]
    await q(SEND, {"c": direct, "t": "buy my stuff"}, user="carol")
    assert await q("mutation($c: ID!) { declineConversation(conversationId: $c) }", {"c": direct}, user="bob") == {
        "declineConversation": True}
    _, errors = await call(database, kv, SEND, {"c": direct, "t": "again"}, user="carol")
    assert codes(errors) == ["FORBIDDEN"]
    assert (await count(database, Conversation), await count(database, Message)) == (0, 0)

    await q(FOLLOW, {"u": "alice"}, user="bob")
    direct = (await q(OPEN_DIRECT, {"u": "bob"}, user="alice"))["openDirectConversation"]["id"]
    assert (await q(MESSAGES, {"c": direct}, user="bob"))["conversation"]["myStatus"] == "ACTIVE"
    await q(SEND, {"c": direct, "t": "hey alice"}, user="bob")


# --- group consent and history ----------------------------------------------------------


async def test_group_adds_need_consent_unless_the_member_follows_the_adder(database, kv):
    q = partial(ok, database, kv)
    await q(FOLLOW, {"u": "alice"}, user="bob")
    group = (await q(GROUP, {"m": ["bob", "carol"], "h": False}, user="alice"))["createConversation"]["id"]
    await q(SEND, {"c": group, "t": "welcome"}, user="alice")
    members = (await q(MEMBERS, {"c": group}, user="carol"))["conversation"]  # an invitee may look
    assert members == {"title": "g", "members": [
        {"user": {"id": "alice"}, "status": "ACTIVE"}, {"user": {"id": "bob"}, "status": "ACTIVE"},
        {"user": {"id": "carol"}, "status": "INVITED"}]}
    _, errors = await call(database, kv, MESSAGES, {"c": group}, user="carol")
    assert codes(errors) == ["FORBIDDEN"] and reasons(errors) == ["INVITATION_PENDING"]
    _, errors = await call(database, kv, SEND, {"c": group, "t": "me too"}, user="carol")
    assert reasons(errors) == ["INVITATION_PENDING"]
    assert await notification_kinds(database, "carol") == ["conversation_invite"]
    assert "message" in await notification_kinds(database, "bob")

    await q("mutation($c: ID!) { acceptConversation(conversationId: $c) { id } }", {"c": group}, user="carol")
    await q(SEND, {"c": group, "t": "thanks"}, user="carol")
    # Joined after "welcome" in a group that does not share history: carol sees only her time.
    assert (await q(MESSAGES, {"c": group}, user="carol"))["conversation"] == {
        "myStatus": "ACTIVE", "unreadCount": 0, "messages": {"nodes": [{"text": "thanks"}]}}


async def test_a_member_can_refuse_adds_even_from_people_it_follows_and_decline(database, kv):
    q = partial(ok, database, kv)
    await q(FOLLOW, {"u": "alice"}, user="bob")
    await q("mutation { updatePrivacySettings(allowGroupAddsFromFollowing: false) { isPrivate } }", user="bob")
    assert (await q("{ myPrivacySettings { isPrivate allowGroupAddsFromFollowing } }", user="bob")) == {
        "myPrivacySettings": {"isPrivate": False, "allowGroupAddsFromFollowing": False}}
    group = (await q(GROUP, {"m": ["bob"], "h": False}, user="alice"))["createConversation"]["id"]
    assert (await q(MESSAGES.replace("unreadCount messages { nodes { text } }", ""), {"c": group}, user="bob"))[
        "conversation"] == {"myStatus": "INVITED"}
    await q("mutation($c: ID!) { declineConversation(conversationId: $c) }", {"c": group}, user="bob")
    _, errors = await call(database, kv, MEMBERS, {"c": group}, user="bob")
    assert reasons(errors) == ["NOT_A_MEMBER"]
    _, errors = await call(database, kv, "mutation($c: ID!) { declineConversation(conversationId: $c) }",
                           {"c": group}, user="alice")
    assert codes(errors) == ["BAD_USER_INPUT"]


async def test_new_members_see_earlier_messages_only_when_the_group_shares_history(database, kv):
    q = partial(ok, database, kv)
    for member in ("bob", "carol", "stranger"):
        await q(FOLLOW, {"u": "alice"}, user=member)
    add = "mutation($c: ID!, $u: ID!) { addConversationMembers(conversationId: $c, userIds: [$u]) { id } }"
    for share, newcomer in ((False, "carol"), (True, "stranger")):
        group = (await q(GROUP, {"m": ["bob"], "h": share}, user="alice"))["createConversation"]
        assert group["shareHistory"] is share
        await q(SEND, {"c": group["id"], "t": "before"}, user="bob")
        await q(add, {"c": group["id"], "u": newcomer}, user="alice")
        await q(SEND, {"c": group["id"], "t": "after"}, user="bob")
        seen = (await q(MESSAGES, {"c": group["id"]}, user=newcomer))["conversation"]
        expected = [{"text": "after"}, {"text": "before"}] if share else [{"text": "after"}]
        assert seen["messages"]["nodes"] == expected and seen["unreadCount"] == len(expected), share
    # Only the creator changes the setting.
    toggle = "mutation($c: ID!) { setConversationShareHistory(conversationId: $c, shareHistory: true) { shareHistory } }"
    _, errors = await call(database, kv, toggle, {"c": group["id"]}, user="bob")
    assert codes(errors) == ["FORBIDDEN"] and reasons(errors) == ["NOT_CREATOR"]
    first = (await q("{ myConversations { nodes { id shareHistory } } }", user="carol"))["myConversations"]["nodes"]
    assert (await q(toggle, {"c": first[0]["id"]}, user="alice"))["setConversationShareHistory"] == {"shareHistory": True}
    seen = (await q(MESSAGES, {"c": first[0]["id"]}, user="carol"))["conversation"]["messages"]["nodes"]
    assert seen == [{"text": "after"}, {"text": "before"}]
