"""token versions, sign-in failures, API key scopes, access log students

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db.types

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('token_version', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'scopes',
                sqlmodel.sql.sqltypes.AutoString(length=200),
                server_default='',
                nullable=False,
            )
        )
    op.create_table(
        'sign_in_failure',
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column('at', app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure')),
    )
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failure_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failure_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failure_client'), ['client'], unique=False)
    op.create_table(
        'access_log_student',
        sa.Column(
            'access_log_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False
        ),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['access_log_id'],
            ['access_log.id'],
            name=op.f('fk_access_log_student_access_log_id_access_log'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('access_log_id', 'student_id', name=op.f('pk_access_log_student')),
    )
    with op.batch_alter_table('access_log_student', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_access_log_student_student_id'), ['student_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('access_log_student', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_student_student_id'))
    op.drop_table('access_log_student')
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_failure_client'))
        batch_op.drop_index(batch_op.f('ix_sign_in_failure_at'))
        batch_op.drop_index(batch_op.f('ix_sign_in_failure_account'))
    op.drop_table('sign_in_failure')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('scopes')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('token_version')
