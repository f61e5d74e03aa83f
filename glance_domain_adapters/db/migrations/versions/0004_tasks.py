"""Glance's task tables (tasks, task_info), created when missing.

Import tasks used to be JSON files under ``<data_dir>/tasks`` on each API host; in the image
database every host sharing it sees the same tasks. A Glance database already has both tables:
they are kept with their rows (on MySQL/MariaDB their timestamps gain microseconds, as the
image tables did in 0003).

Revision ID: 0004_tasks
Revises: 0003_subsecond_times
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004_tasks"
down_revision = "0003_subsecond_times"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
}
#: timestamp column -> nullable
_TIMES = {"expires_at": True, "created_at": False, "updated_at": True, "deleted_at": True}


def _time() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _create_tasks() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True, nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        *(sa.Column(name, _time(), nullable=nullable) for name, nullable in _TIMES.items()),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("image_id", sa.String(36), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        **_MYSQL,
    )
    for column in ("type", "status", "owner", "deleted", "image_id", "updated_at"):
        op.create_index(f"ix_tasks_{column}", "tasks", [column])


def _create_task_info() -> None:
    op.create_table(
        "task_info",
        sa.Column("task_id", sa.String(36), sa.ForeignKey("tasks.id"), primary_key=True,
                  nullable=False),
        sa.Column("input", sa.Text()),
        sa.Column("result", sa.Text()),
        sa.Column("message", sa.Text()),
        **_MYSQL,
    )


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    if "tasks" not in existing:
        _create_tasks()
    elif bind.dialect.name == "mysql":  # Glance's tasks table: DATETIME -> DATETIME(6)
        for name, nullable in _TIMES.items():
            op.alter_column("tasks", name, existing_type=mysql.DATETIME(),
                            type_=mysql.DATETIME(fsp=6), existing_nullable=nullable)
    if "task_info" not in existing:
        _create_task_info()


def downgrade() -> None:
    op.drop_table("task_info")
    op.drop_table("tasks")
