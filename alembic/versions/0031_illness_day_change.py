"""illness_day_change: the school days the cluster rules have yet to look at; illness_rule's
"all of" symptoms and "unexplained only"

The roll no longer runs the cluster detector inside its transaction (issue 21's bench goal):
it marks the (school, school day) here and the engine's ``illness-clusters`` job looks at it
within a minute. Nothing to move on upgrade: before this revision every day was looked at in
the roll that changed it, so no day is pending.

illness_rule gets ``symptoms_all`` (every one of these too; ``symptoms`` stays "any of") and
``unexplained_only`` (count undiagnosed cases only): existing rows get ``[]`` and false, the
rules they were.

Downgrade drops the two columns (a county rule using them becomes its "any of" part alone) and
the table and with it any day not yet looked at (at most the last minute's):
the code of 0030 looks at a day again at its next sick roll; run the engine once before
downgrading to lose none.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.db.types
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "illness_day_change",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_date", sa.Date(), nullable=False),
        sa.Column("changed_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_illness_day_change_school_id_school")
        ),
        sa.PrimaryKeyConstraint("school_id", "school_date", name=op.f("pk_illness_day_change")),
    )


    with op.batch_alter_table("illness_rule") as batch:
        batch.add_column(
            sa.Column("symptoms_all", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column("unexplained_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("illness_rule") as batch:
        batch.drop_column("unexplained_only")
        batch.drop_column("symptoms_all")
    op.drop_table("illness_day_change")
