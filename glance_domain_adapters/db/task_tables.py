"""Glance's task tables (``tasks``, ``task_info``), same names, columns and indexes.

They share :data:`.tables.metadata`; revision ``0004_tasks`` creates them (skipping tables a
Glance database already has). ``tasks`` carries the soft-delete columns: an expired task is
marked deleted, and ``glance-domain db purge`` removes it for good. ``task_info`` holds the
bulky part (input and result as JSON text, message), one row per task.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text

from glance_domain_adapters.db.tables import _MYSQL, _soft_delete_columns, metadata, timestamp

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(30), nullable=False),
    Column("status", String(30), nullable=False),
    Column("owner", String(255), nullable=False),  # "" for a task created without a project
    Column("expires_at", timestamp(), nullable=True),
    *_soft_delete_columns(),
    Column("image_id", String(36), nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("user_id", String(64), nullable=True),
    Index("ix_tasks_type", "type"),
    Index("ix_tasks_status", "status"),
    Index("ix_tasks_owner", "owner"),
    Index("ix_tasks_deleted", "deleted"),
    Index("ix_tasks_image_id", "image_id"),
    Index("ix_tasks_updated_at", "updated_at"),
    **_MYSQL,
)

task_info = Table(
    "task_info",
    metadata,
    Column("task_id", String(36), ForeignKey("tasks.id"), primary_key=True, nullable=False),
    Column("input", Text()),  # JSON text, as Glance stores it
    Column("result", Text()),  # JSON text or NULL
    Column("message", Text()),
    **_MYSQL,
)

#: Both task tables, child first (safe order for deletes).
TASK_TABLES = (task_info, tasks)
