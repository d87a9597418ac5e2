"""email reminders: members' subscriptions, sign-in nonces, and the record of reminders sent

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_subscription",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("vote_opened", sa.Boolean(), nullable=False),
        sa.Column("hours_before_close", sa.Integer(), nullable=False),
        sa.Column("delegate_not_voted", sa.Boolean(), nullable=False),
        sa.Column("confirmed_at", sa.Float(), nullable=True),
        sa.Column("confirmation_sent_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "reminder_nonce",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_reminder_nonce_expires", "reminder_nonce", ["expires_at"])
    op.create_table(
        "reminder_sent",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("proposal_id", sa.String(length=78), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.Float(), nullable=True),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("address", "proposal_id", "kind"),
    )
    op.create_index("ix_reminder_sent_due", "reminder_sent", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_reminder_sent_due", table_name="reminder_sent")
    op.drop_table("reminder_sent")
    op.drop_index("ix_reminder_nonce_expires", table_name="reminder_nonce")
    op.drop_table("reminder_nonce")
    op.drop_table("reminder_subscription")
