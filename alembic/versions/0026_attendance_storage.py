"""attendance storage per event: native uuid event ids (PostgreSQL) as the events' key, a
16-byte content hash

Issue 24 item 3. ``attendance_event.event_id`` and ``attendance_mark.event_id`` become
PostgreSQL's ``uuid`` (16 bytes instead of 37 as text, in the rows and in the unique index);
SQLite keeps them as text. ``content_hash`` becomes the first 16 bytes of the SHA-256 (it was
its 64 hex characters): existing rows keep their hash's first half, which is what the new
fingerprint computes, so a retry of an event stored before still answers ``duplicate``.

The events' surrogate ``id`` goes: ``event_id`` is the primary key (one index fewer per
event). Downgrade numbers the events afresh.

Downgrade turns the hash back into hex text of 32 characters: an event stored before the
downgrade and sent again afterwards (the old code compares 64 characters) is then judged a
conflict. The ids go back to text unchanged.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 5000


def _sqlite_hashes(convert: str) -> None:
    """Rewrite every content hash in place, a chunk at a time (SQLite 3.40 has no unhex())."""
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, content_hash FROM attendance_event WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _CHUNK},
        ).all()
        if not rows:
            return
        values = [
            {
                "id": i,
                "h": bytes.fromhex(h[:32]) if convert == "binary" else bytes(h).hex(),
            }
            for i, h in rows
        ]
        conn.execute(sa.text("UPDATE attendance_event SET content_hash = :h WHERE id = :id"), values)
        last = rows[-1][0]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE attendance_event"
            " ALTER COLUMN event_id TYPE uuid USING event_id::uuid,"
            " ALTER COLUMN content_hash TYPE bytea USING decode(substr(content_hash, 1, 32), 'hex')"
        )
        op.execute("ALTER TABLE attendance_mark ALTER COLUMN event_id TYPE uuid USING event_id::uuid")
        op.execute(
            "ALTER TABLE attendance_event DROP CONSTRAINT pk_attendance_event, DROP COLUMN id,"
            " DROP CONSTRAINT uq_attendance_event_event_id,"
            " ADD CONSTRAINT pk_attendance_event PRIMARY KEY (event_id)"
        )
        return
    _sqlite_hashes("binary")
    with op.batch_alter_table("attendance_event", recreate="always") as batch:
        batch.alter_column(
            "content_hash",
            existing_type=sa.String(length=64),
            type_=sa.LargeBinary(length=16),
            existing_nullable=False,
        )
        batch.drop_constraint("uq_attendance_event_event_id", type_="unique")
        batch.drop_column("id")
        batch.create_primary_key("pk_attendance_event", ["event_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE attendance_event DROP CONSTRAINT pk_attendance_event,"
            " ADD COLUMN id bigserial NOT NULL, ADD CONSTRAINT pk_attendance_event PRIMARY KEY (id),"
            " ADD CONSTRAINT uq_attendance_event_event_id UNIQUE (event_id)"
        )
        op.execute(
            "ALTER TABLE attendance_event"
            " ALTER COLUMN event_id TYPE varchar(36) USING event_id::text,"
            " ALTER COLUMN content_hash TYPE varchar(64) USING encode(content_hash, 'hex')"
        )
        op.execute(
            "ALTER TABLE attendance_mark ALTER COLUMN event_id TYPE varchar(36) USING event_id::text"
        )
        return
    with op.batch_alter_table("attendance_event", recreate="always") as batch:
        batch.drop_constraint("pk_attendance_event", type_="primary")
        batch.add_column(sa.Column("id", sa.Integer(), nullable=False, primary_key=True))
        batch.create_unique_constraint("uq_attendance_event_event_id", ["event_id"])
    _sqlite_hashes("hex")
    with op.batch_alter_table("attendance_event") as batch:
        batch.alter_column(
            "content_hash",
            existing_type=sa.LargeBinary(length=16),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
