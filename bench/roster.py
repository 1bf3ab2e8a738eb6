"""A county-sized roster written straight into PostgreSQL with COPY (seconds, not minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from app.security.crypto import hash_api_key

BENCH_KEY = "kcbx_benchbench_" + "k" * 43


@dataclass
class Roster:
    class_students: dict[int, list[int]]  # class id → student ids
    school_of_class: dict[int, int]


async def seed(dsn: str, *, schools: int, classes: int, students: int, today: date) -> Roster:
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO county (id, name, code, active, created_at) "
                "VALUES (1, '基准县', 'BENCH', true, $1)",
                now,
            )
            await conn.execute(
                "INSERT INTO township (id, county_id, name, active, created_at) "
                "VALUES (1, 1, '基准镇', true, $1)",
                now,
            )
            await conn.copy_records_to_table(
                "school",
                columns=[
                    "id",
                    "county_id",
                    "township_id",
                    "name",
                    "code",
                    "kind",
                    "timezone",
                    "morning_check",
                    "noon_check",
                    "dismissal_check",
                    "active",
                    "created_at",
                ],
                records=[
                    (
                        s,
                        1,
                        1,
                        f"学校{s}",
                        f"B{s:03d}",
                        "primary",
                        "Asia/Shanghai",
                        time(8),
                        time(13, 30),
                        time(16, 30),
                        True,
                        now,
                    )
                    for s in range(1, schools + 1)
                ],
            )
            # One term around today, so the bench runs whatever the date.
            await conn.copy_records_to_table(
                "term",
                columns=["school_id", "name", "start_date", "end_date", "created_at"],
                records=[
                    (s, "基准学期", today - timedelta(days=120), today + timedelta(days=30), now)
                    for s in range(1, schools + 1)
                ],
            )
            await conn.copy_records_to_table(
                "grade",
                columns=["id", "school_id", "level", "name", "active", "created_at"],
                records=[(s, s, 3, "三年级", True, now) for s in range(1, schools + 1)],
            )
            class_rows, student_rows = [], []
            roster = Roster({}, {})
            cid = sid = 0
            for s in range(1, schools + 1):
                for _ in range(classes):
                    cid += 1
                    class_rows.append((cid, s, s, f"{cid}班", True, now))
                    roster.school_of_class[cid] = s
                    roster.class_students[cid] = []
                    for _ in range(students):
                        sid += 1
                        roster.class_students[cid].append(sid)
                        student_rows.append(
                            (
                                sid,
                                1,
                                s,
                                cid,
                                f"学生{sid}",
                                "male",
                                date(2017, 1, 1),
                                f"L{sid:018d}",
                                "01",
                                False,
                                False,
                                False,
                                False,
                                False,
                                False,
                                True,
                                now,
                                now,
                            )
                        )
            await conn.copy_records_to_table(
                "school_class",
                columns=["id", "school_id", "grade_id", "name", "active", "created_at"],
                records=class_rows,
            )
            await conn.copy_records_to_table(
                "student",
                columns=[
                    "id",
                    "county_id",
                    "school_id",
                    "class_id",
                    "name",
                    "gender",
                    "birth_date",
                    "student_no",
                    "status",
                    "left_behind",
                    "disabled",
                    "single_parent",
                    "orphan",
                    "poverty",
                    "home_schooled",
                    "active",
                    "created_at",
                    "updated_at",
                ],
                records=student_rows,
            )
            await conn.execute(
                "INSERT INTO api_key (name, prefix, key_hash, county_id, created_at) "
                "VALUES ('基准系统', 'benchbench', $1, 1, $2)",
                hash_api_key(BENCH_KEY),
                now,
            )
            for table in ("county", "township", "school", "grade", "school_class", "student"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            await conn.execute(
                "CREATE TABLE bare_event (id bigserial PRIMARY KEY, event_id varchar(36) UNIQUE "
                "NOT NULL, student_id int NOT NULL, school_date date NOT NULL, "
                "check_name varchar(10) NOT NULL, status varchar(10) NOT NULL, "
                "occurred_at timestamptz NOT NULL)"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return roster
