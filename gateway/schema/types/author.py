"""The author persona: the only door from content to a person, and it shows just what P5 allows."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from consilium.anonymity.v1 import anonymity_pb2 as anon
from gateway.context import Info
from gateway.schema.prefetch import NOTHING, Fetched


@strawberry.federation.type(keys=["aliasId"], description="How an author appears to readers.")
class Author:
    alias_id: strawberry.ID
    handle: str
    verified_physician: bool
    specialty: str | None = strawberry.field(
        description="Shown only when enough verified members share it (k-anonymity)."
    )
    display_name: str | None = strawberry.field(description="Only on IDENTIFIED posts.")
    fetched: strawberry.Private[Fetched] = NOTHING

    @strawberry.field(description="Whether the signed-in viewer wrote this.", graphql_type=bool)
    def is_viewer(self, info: Info) -> bool | Awaitable[bool]:
        return owned(info, self.fetched, str(self.alias_id))

    @classmethod
    def from_proto(cls, persona: anon.Persona, fetched: Fetched = NOTHING) -> Author:
        return cls(
            alias_id=strawberry.ID(persona.alias_id),
            handle=persona.handle,
            verified_physician=persona.verified_physician,
            specialty=persona.specialty.name if persona.HasField("specialty") else None,
            display_name=persona.display_name if persona.HasField("display_name") else None,
            fetched=fetched,
        )

    @classmethod
    def unknown(cls, alias_id: str, fetched: Fetched = NOTHING) -> Author:
        """An alias anonymity no longer describes: shown, but with nothing to disclose."""
        return cls(
            alias_id=strawberry.ID(alias_id),
            handle="Former member",
            verified_physician=False,
            specialty=None,
            display_name=None,
            fetched=fetched,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, aliasId: strawberry.ID) -> Author:
        # A federation router forwards the client's Authorization: the same rule as Query.
        info.context.auth.require_reader()
        return await load_author(info, str(aliasId))


async def load_author(info: Info, alias_id: str) -> Author:
    persona = await info.context.loaders.personas.load(alias_id)
    return Author.from_proto(persona) if persona is not None else Author.unknown(alias_id)


def author_of(alias_id: str, fetched: Fetched) -> Author:
    """The author from a look-ahead fetch (raises the persona call's error, if it failed)."""
    persona = fetched.personas[alias_id]
    if persona is None:
        return Author.unknown(alias_id, fetched)
    return Author.from_proto(persona, fetched)


def owned(info: Info, fetched: Fetched, alias_id: str) -> bool | Awaitable[bool]:
    """Whether the viewer holds `alias_id`: from the fetch when it asked, else loaded."""
    if alias_id in fetched.owned:
        return bool(fetched.owned[alias_id])
    return _load_owned(info, alias_id)


async def _load_owned(info: Info, alias_id: str) -> bool:
    return bool(await info.context.loaders.owned.load(alias_id))
