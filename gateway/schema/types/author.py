"""The author persona: the only door from content to a person, and it shows just what P5 allows."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from consilium.anonymity.v1 import anonymity_pb2 as anon
from gateway.context import GatewayContext


@strawberry.federation.type(keys=["aliasId"], description="How an author appears to readers.")
class Author:
    alias_id: strawberry.ID
    handle: str
    verified_physician: bool
    specialty: str | None = strawberry.field(
        description="Shown only when enough verified members share it (k-anonymity)."
    )
    display_name: str | None = strawberry.field(description="Only on IDENTIFIED posts.")

    @strawberry.field(description="Whether the signed-in viewer wrote this.")
    async def is_viewer(self, info: Info[GatewayContext, None]) -> bool:
        return bool(await info.context.loaders.owned.load(str(self.alias_id)))

    @classmethod
    def from_proto(cls, persona: anon.Persona) -> Author:
        return cls(
            alias_id=strawberry.ID(persona.alias_id),
            handle=persona.handle,
            verified_physician=persona.verified_physician,
            specialty=persona.specialty.name if persona.HasField("specialty") else None,
            display_name=persona.display_name if persona.HasField("display_name") else None,
        )

    @classmethod
    def unknown(cls, alias_id: str) -> Author:
        """An alias anonymity no longer describes: shown, but with nothing to disclose."""
        return cls(
            alias_id=strawberry.ID(alias_id),
            handle="Former member",
            verified_physician=False,
            specialty=None,
            display_name=None,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info[GatewayContext, None], aliasId: strawberry.ID
    ) -> Author:
        # A federation router forwards the client's Authorization: the same rule as Query.
        info.context.auth.require_reader()
        return await load_author(info, str(aliasId))


async def load_author(info: Info[GatewayContext, None], alias_id: str) -> Author:
    persona = await info.context.loaders.personas.load(alias_id)
    return Author.from_proto(persona) if persona is not None else Author.unknown(alias_id)
