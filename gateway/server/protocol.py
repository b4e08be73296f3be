"""Wire messages of the WebSocket subscription protocols (kept apart from the handlers).

`graphql-transport-ws`: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
`graphql-ws` (legacy, subscriptions-transport-ws):
https://github.com/apollographql/subscriptions-transport-ws/blob/master/PROTOCOL.md
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
GRAPHQL_WS = "graphql-ws"

# graphql-transport-ws close codes (the protocol's own, plus 4403 for refused connections)
BAD_MESSAGE = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
DUPLICATE_SUBSCRIBER = 4409
TOO_MANY_INIT_REQUESTS = 4429
GOING_AWAY = 1001


class SubscribePayload(TypedDict):
    query: str
    operationName: NotRequired[str | None]
    variables: NotRequired[dict[str, Any] | None]
    extensions: NotRequired[dict[str, Any] | None]


class ExecutionResultPayload(TypedDict, total=False):
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]


# -- graphql-transport-ws ----------------------------------------------------------------------


class ConnectionInitMessage(TypedDict):
    type: Literal["connection_init"]
    payload: NotRequired[dict[str, Any] | None]


class ConnectionAckMessage(TypedDict):
    type: Literal["connection_ack"]
    payload: NotRequired[dict[str, Any]]


class PingMessage(TypedDict):
    type: Literal["ping"]
    payload: NotRequired[dict[str, Any]]


class PongMessage(TypedDict):
    type: Literal["pong"]
    payload: NotRequired[dict[str, Any]]


class SubscribeMessage(TypedDict):
    id: str
    type: Literal["subscribe"]
    payload: SubscribePayload


class NextMessage(TypedDict):
    id: str
    type: Literal["next"]
    payload: ExecutionResultPayload


class ErrorMessage(TypedDict):
    id: str
    type: Literal["error"]
    payload: list[dict[str, Any]]


class CompleteMessage(TypedDict):
    id: str
    type: Literal["complete"]


TransportWsMessage = (
    ConnectionInitMessage
    | ConnectionAckMessage
    | PingMessage
    | PongMessage
    | SubscribeMessage
    | NextMessage
    | ErrorMessage
    | CompleteMessage
)


# -- graphql-ws (legacy) -----------------------------------------------------------------------


class LegacyConnectionErrorMessage(TypedDict):
    type: Literal["connection_error"]
    payload: dict[str, Any]


class LegacyKeepAliveMessage(TypedDict):
    type: Literal["ka"]


class LegacyStartMessage(TypedDict):
    id: str
    type: Literal["start"]
    payload: SubscribePayload


class LegacyDataMessage(TypedDict):
    id: str
    type: Literal["data"]
    payload: ExecutionResultPayload


class LegacyErrorMessage(TypedDict):
    id: str
    type: Literal["error"]
    payload: dict[str, Any]  # one error object, as the legacy protocol has it


class LegacyCompleteMessage(TypedDict):
    id: str
    type: Literal["complete"]


class LegacyStopMessage(TypedDict):
    id: str
    type: Literal["stop"]
