"""The topic catalogue: names (versioned), keys, and how `consilium topics create` makes them.

| topic | key | payloads (consilium.events.v1) | producer | consumer groups |
|---|---|---|---|---|
| identity.physicians.v1 | user id | PhysicianRegistered, Verified, SpecialtyChanged, Suspended, Reinstated, Erased | identity | anonymity |
| anonymity.aliases.v1 | alias id | AliasSuspended, AliasReinstated, AliasOrphaned | anonymity | content |
| content.posts.v1 | post id | PostCreated, CommentCreated, CaseSolved | content | gateway-<replica>, anonymity-index |
| audit.identity-access.v1 | producer | IdentityAccessRecorded | anonymity, identity | audit |

Content never consumes identity topics (the privacy line); every topic has a `.dlq` twin.
"""  # noqa: E501

from __future__ import annotations

import os

from plumbing.events.bus import TopicSpec

IDENTITY_PHYSICIANS = "identity.physicians.v1"
ANONYMITY_ALIASES = "anonymity.aliases.v1"
CONTENT_POSTS = "content.posts.v1"
AUDIT_IDENTITY_ACCESS = "audit.identity-access.v1"

_DAY_MS = 24 * 3600 * 1000


def topic_specs() -> list[TopicSpec]:
    """Every topic and its dead-letter twin; partitions and replication from the environment.

    `CONSILIUM_TOPIC_PARTITIONS` (default 3) and `CONSILIUM_TOPIC_REPLICATION` (default 1;
    use 3 on a real cluster). The audit topic is kept for a year: it is the ledger's source.
    """
    partitions = int(os.environ.get("CONSILIUM_TOPIC_PARTITIONS", "3"))
    replication = int(os.environ.get("CONSILIUM_TOPIC_REPLICATION", "1"))
    specs: list[TopicSpec] = []
    for name, retention_days in (
        (IDENTITY_PHYSICIANS, 30),
        (ANONYMITY_ALIASES, 30),
        (CONTENT_POSTS, 7),
        (AUDIT_IDENTITY_ACCESS, 365),
    ):
        retention = retention_days * _DAY_MS
        specs.append(TopicSpec(name, partitions, retention, "delete", replication))
        specs.append(TopicSpec(f"{name}.dlq", 1, 30 * _DAY_MS, "delete", replication))
    return specs
