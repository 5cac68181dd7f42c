"""One execution per live event for subscribers that would get the same answer.

graphql-core executes a subscription's selection once per subscriber per event. When the
selection holds only fields every reader sees alike (plus authorship, whose answer is part
of the key), subscribers with the same document and variables get the same data: the first
one to reach the event executes, the others take its result (and its serialized JSON, see
gateway/subscriptions/websocket.py). Anything viewer-specific (reactions, polls, follows,
comments) makes a subscription execute alone, as before: a mistake here would show one
viewer's state to another, so the list of shareable fields is an allowlist.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from graphql import ExecutionResult, OperationDefinitionNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.nodes import FragmentSpread, InlineFragment

#: Fields whose value is the same for every reader of a post or comment. `viewerIsAuthor`
#: and `isViewer` are here because their answer (the event's author alias, see
#: feed.Owners) is part of the sharing key; on a comment's author or in `comments` they
#: would not be, so `comments` is absent and makes a selection execute alone.
SHAREABLE = frozenset(
    {
        "__typename",
        # Post and Comment
        "id",
        "kind",
        "title",
        "body",
        "createdAt",
        "editedAt",
        "deleted",
        "parentId",
        "community",
        "author",
        "commentCount",
        "case",
        "viewerIsAuthor",
        # Community (not viewerFollows)
        "name",
        "description",
        # Author
        "aliasId",
        "handle",
        "verifiedPhysician",
        "specialty",
        "displayName",
        "isViewer",
        # CaseDetails
        "ageBand",
        "sex",
        "presentingComplaint",
        "history",
        "question",
        "specialtyTags",
        "status",
        "resolution",
        "solvedAt",
    }
)


def shareable(selections: Sequence[Any]) -> bool:
    """Whether every field selected (through fragments too) is in SHAREABLE."""
    for selection in selections:
        fragment = isinstance(selection, FragmentSpread | InlineFragment)
        if not fragment and selection.name not in SHAREABLE:
            return False
        if not shareable(getattr(selection, "selections", None) or ()):
            return False
    return True


def document_key(
    operation: OperationDefinitionNode, variables: dict[str, Any], fields: Sequence[Any]
) -> Hashable | None:
    """What two subscriptions must share to share results (the operation's source text and
    its variables), or None if this one executes alone. `fields`: the subscription field as
    `info.selected_fields` gives it (what it selects is checked)."""
    selections = [s for f in fields for s in getattr(f, "selections", None) or ()]
    if operation.loc is None or not selections or not shareable(selections):
        return None
    name = operation.name.value if operation.name else ""
    return (operation.loc.source.body, name, json.dumps(variables, sort_keys=True, default=str))


class SharedData(dict[str, Any]):
    """The data of a shared result, serialized once for all the subscribers that get it."""

    __slots__ = ("_json",)

    def json(self) -> str:
        try:
            return self._json
        except AttributeError:
            self._json: str = json.dumps(self, separators=(",", ":"), ensure_ascii=False)
            return self._json


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One subscriber's view of one event while its selection executes."""

    root: object
    results: dict[Hashable, asyncio.Future[SharedData | None]]
    key: Hashable
    #: Makes the subscriber's loaders fresh for the event; run before it executes itself.
    prepare: Callable[[], None]


_LIVE: contextvars.ContextVar[LiveEvent | None] = contextvars.ContextVar("live", default=None)


@contextlib.contextmanager
def live_event(
    root: object,
    results: dict[Hashable, asyncio.Future[SharedData | None]],
    key: Hashable,
    prepare: Callable[[], None],
) -> Iterator[None]:
    """Around the `yield` of `root` in a subscription: its execution may be shared under
    `key` (None: it executes alone, and `prepare` must have run) with the other subscribers
    of the event; `prepare` runs only if this subscriber executes."""
    if key is None:
        yield
        return
    token = _LIVE.set(LiveEvent(root, results, key, prepare))
    try:
        yield
    finally:
        _LIVE.reset(token)


Execute = Callable[[], Any]  # graphql-core's AwaitableOrValue[ExecutionResult]


class SharingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, sharing a live event's execution where `live_event` allows."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        live = _LIVE.get()
        execute = super().execute_operation
        if live is None or live.root is not self.root_value:
            return execute(serially)

        def prepared() -> Any:
            live.prepare()
            return execute(serially)

        return _shared(live, prepared)


def _shared(live: LiveEvent, execute: Execute) -> Any:
    pending = live.results.get(live.key)
    if pending is not None:
        return _follow(pending, execute)
    first: asyncio.Future[SharedData | None] = asyncio.get_running_loop().create_future()
    live.results[live.key] = first
    try:
        result = execute()
    except BaseException:
        first.set_result(None)
        raise
    if isinstance(result, ExecutionResult):
        return _settle(first, result)
    return _lead(first, cast("Awaitable[ExecutionResult]", result))


def _settle(first: asyncio.Future[SharedData | None], result: ExecutionResult) -> ExecutionResult:
    """Offers `result` to the followers; one with errors is not shared (they execute)."""
    if result.errors or result.extensions or not isinstance(result.data, dict):
        first.set_result(None)
        return result
    data = SharedData(result.data)
    first.set_result(data)
    return ExecutionResult(data=data)


async def _lead(
    first: asyncio.Future[SharedData | None], pending: Awaitable[ExecutionResult]
) -> ExecutionResult:
    try:
        result = await pending
    except BaseException:
        first.set_result(None)  # the followers execute for themselves
        raise
    return _settle(first, result)


async def _follow(pending: asyncio.Future[SharedData | None], execute: Execute) -> Any:
    data = await asyncio.shield(pending)
    if data is None:
        result = execute()
        return await result if not isinstance(result, ExecutionResult) else result
    return ExecutionResult(data=data)
