"""Seed the communities every environment has: specialty groups, Second Opinions, the lounge.

A data migration rather than a dev seed: posts need a community, so production needs them
too. The list is frozen here (not imported) so that later code changes cannot rewrite
history; add communities in a new migration.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMUNITIES: tuple[tuple[str, str, str], ...] = (
    ("cardiology", "Cardiology", "Cases and questions on the heart and vessels."),
    ("internal-medicine", "Internal Medicine", "The broad middle of adult medicine."),
    ("family-medicine", "Family Medicine", "Primary care across ages."),
    ("emergency-medicine", "Emergency Medicine", "Resuscitation, triage and the 3 a.m. call."),
    ("pediatrics", "Pediatrics", "Neonates to adolescents."),
    ("obstetrics-gynecology", "Obstetrics & Gynecology", "Pregnancy, birth and women's health."),
    ("neurology", "Neurology", "Brain, spinal cord, nerves and muscle."),
    ("psychiatry", "Psychiatry", "Mental health cases and management."),
    ("oncology", "Oncology & Hematology", "Cancer and blood disorders."),
    ("infectious-disease", "Infectious Disease", "Bugs, drugs and stewardship."),
    ("surgery", "Surgery", "Operative cases, peri-operative care and complications."),
    ("radiology", "Radiology", "Imaging puzzles and reads."),
    ("dermatology", "Dermatology", "Skin, hair and nails (describe; no identifiable photos)."),
    ("critical-care", "Critical Care", "The ICU: ventilators, pressors and hard calls."),
    ("second-opinions", "Second Opinions", "Put a case to colleagues before you decide."),
    ("lounge-humor", "Lounge: Humor", "The funny side of medicine. Keep patients unidentifiable."),
    ("lounge-politics", "Lounge: Politics", "Health policy, reimbursement and regulation."),
    ("lounge-burnout", "Lounge: Burnout", "Support for when the job weighs too much."),
    ("lounge-careers", "Lounge: Careers", "Jobs, contracts, training and moving on."),
    ("lounge-stories", "Lounge: Stories", "Memorable shifts and what they taught you."),
    ("lounge-news", "Lounge: News", "Studies, guidelines and headlines worth discussing."),
)

_communities = sa.table(
    "communities",
    sa.column("community_id", sa.String),
    sa.column("name", sa.String),
    sa.column("description", sa.Text),
)


def upgrade() -> None:
    op.bulk_insert(
        _communities,
        [{"community_id": c, "name": n, "description": d} for c, n, d in COMMUNITIES],
    )


def downgrade() -> None:
    ids = [c for c, _, _ in COMMUNITIES]
    op.execute(_communities.delete().where(_communities.c.community_id.in_(ids)))
