"""The demo: one county, one township, a primary and a junior middle school, ~200 students
and their staff, all with the same known password. Created once; running again finds it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from app.context import AppContext
from app.db.models import Staff
from app.domain.access import Actor, ActorKind
from app.domain.idcard import check_character
from app.domain.roles import ROLE_LABELS, Role
from app.org import service as org
from app.org import staff
from app.org.repository import county_by_code
from app.org.schemas import ClassIn, CountyIn, GradeIn, SchoolIn, SchoolKind, TownshipIn
from app.org.staff_schemas import GrantIn, StaffIn
from app.roster import students
from app.roster.schemas import GuardianIn, SpecialGroups, StudentIn
from app.security.passwords import hash_password
from app.seed.attendance import seed_demo_attendance
from app.seed.calendar import seed_demo_terms
from app.seed.school_age import seed_demo_school_age

DEMO_COUNTY_CODE = "DEMO"
OPS_MOBILE = "13800000000"
_OPS = Actor(kind=ActorKind.staff, id=0, name="demo seed", superuser=True)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "明华强军平芳娜敏静丽伟磊洋勇艳杰涛超秀英霞浩宇轩然欣怡梓涵子墨雨泽"


@dataclass(frozen=True)
class DemoLogin:
    mobile: str
    name: str
    role: str


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(_SURNAMES) + given


def _id_number(rng: random.Random, born: date, male: bool) -> str:
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"530122{born:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


async def refuse_demo_in_production(ctx: AppContext) -> None:
    """Production must not serve the demo: its accounts share one published password."""
    if ctx.settings.environment != "production":
        return
    async with ctx.uow() as uow:
        if await county_by_code(uow.session, DEMO_COUNTY_CODE) is not None:
            raise RuntimeError(
                "production refuses demo data: the database holds the demo county "
                f"({DEMO_COUNTY_CODE}, accounts with the published password); use a fresh "
                "database, or KCBX_ENVIRONMENT=development"
            )


# (name, code, kind, grade levels, students per class)
_PLANS = (
    ("青山镇中心小学", "QS-XX", SchoolKind.primary, (3, 4, 5), 17),
    ("青山镇初级中学", "QS-CZ", SchoolKind.junior_middle, (7, 8), 25),
)


async def seed_demo(ctx: AppContext) -> list[DemoLogin] | None:
    """Create the demo unless it exists; returns the sign-ins, or None when already there."""
    async with ctx.uow() as uow:
        if await county_by_code(uow.session, DEMO_COUNTY_CODE) is not None:
            return None
        county = await org.create_county(uow, _OPS, CountyIn(name="示例县", code=DEMO_COUNTY_CODE))
    seeder = _Seeder(ctx, county.id, random.Random(20261125))
    await seeder.add_ops()
    await seeder.add_staff("赵局长", None, [GrantIn(role=Role.county_admin, county_id=county.id)])
    async with ctx.uow() as uow:
        township = await org.create_township(
            uow, _OPS, TownshipIn(county_id=county.id, name="青山镇")
        )
    school_ids = [await seeder.add_school(township.id, *plan) for plan in _PLANS]
    # The primary school's 校医 is its 疫情报告人 (issue 21), so the demo's class cluster has
    # someone to report it; the junior middle school has none and shows the 岗位空缺 flag.
    # Added last so the other accounts keep their mobiles; a fixed name keeps the rng's draws.
    await seeder.add_staff(
        "林晓梅", school_ids[0], [GrantIn(role=Role.epidemic_reporter, school_id=school_ids[0])]
    )
    await seed_demo_terms(ctx, school_ids)
    await seed_demo_attendance(ctx, school_ids[0])
    rng = seeder.rng

    def unenrolled(i: int) -> tuple[str, str]:
        male = i % 2 == 0
        return _name(rng), _id_number(rng, date(2018 - i % 3, 3 + i, 10 + i), male)

    await seed_demo_school_age(ctx, _OPS, county.id, "青山镇", seeder.enrolled, unenrolled)
    return seeder.logins


@dataclass
class _Seeder:
    """The demo's people, drawn from one seeded ``rng`` in a fixed order (the demo is the same
    every time): staff with the demo password and consecutive mobiles, students with valid
    ID numbers, each written in its own unit of work through the services."""

    ctx: AppContext
    county_id: int
    rng: random.Random
    logins: list[DemoLogin] = field(default_factory=list)
    # (name, ID number) of every student enrolled, for the 适龄儿童 register.
    enrolled: list[tuple[str, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    seq: int = 0
    mobiles: Iterator[str] = field(
        default_factory=lambda: iter(f"1380000{n:04d}" for n in range(1, 10_000))
    )

    async def add_ops(self) -> None:
        async with self.ctx.uow() as uow:
            uow.session.add(
                Staff(
                    county_id=self.county_id,
                    name="运维",
                    mobile=OPS_MOBILE,
                    password_hash=hash_password(self.ctx.settings.demo_password),
                    is_superuser=True,
                )
            )
            await uow.commit()
        self.logins.append(DemoLogin(OPS_MOBILE, "运维", "系统运维 (superuser)"))

    async def add_staff(self, name: str, school_id: int | None, grants: list[GrantIn]) -> None:
        data = StaffIn(
            county_id=self.county_id,
            school_id=school_id,
            name=name,
            mobile=next(self.mobiles),
            password=self.ctx.settings.demo_password,
            roles=grants,
        )
        async with self.ctx.uow() as uow:
            await staff.create_staff(uow, _OPS, data)
        labels = "、".join(dict.fromkeys(ROLE_LABELS[g.role] for g in grants))
        self.logins.append(DemoLogin(data.mobile, name, labels))

    async def add_school(
        self,
        township_id: int,
        school_name: str,
        code: str,
        kind: SchoolKind,
        levels: tuple[int, ...],
        per_class: int,
    ) -> int:
        """A school with its leaders, two classes per grade (each with its head teacher and
        ``per_class`` students) and a subject teacher of its first two classes."""
        async with self.ctx.uow() as uow:
            school = await org.create_school(
                uow,
                _OPS,
                SchoolIn(township_id=township_id, name=school_name, code=code, kind=kind),
                default_timezone=self.ctx.settings.default_timezone,
            )
        for role in (Role.principal, Role.vice_principal, Role.academic_affairs):
            await self.add_staff(
                _name(self.rng), school.id, [GrantIn(role=role, school_id=school.id)]
            )
        class_ids: list[int] = []
        for level in levels:
            async with self.ctx.uow() as uow:
                grade = await org.create_grade(uow, _OPS, GradeIn(school_id=school.id, level=level))
            for n in (1, 2):
                class_ids.append(await self.add_class(school.id, grade.id, n, level, per_class))
        await self.add_staff(
            _name(self.rng),
            school.id,
            [GrantIn(role=Role.subject_teacher, class_id=c) for c in class_ids[:2]],
        )
        return school.id

    async def add_class(
        self, school_id: int, grade_id: int, n: int, level: int, per_class: int
    ) -> int:
        async with self.ctx.uow() as uow:
            klass = await org.create_class(uow, _OPS, ClassIn(grade_id=grade_id, name=f"{n}班"))
        await self.add_staff(
            _name(self.rng), school_id, [GrantIn(role=Role.head_teacher, class_id=klass.id)]
        )
        for _ in range(per_class):
            await self.add_student(klass.id, age=level + 6)
        return klass.id

    async def add_student(self, class_id: int, *, age: int) -> None:
        """One student of ``age`` (a drawn ID number already used is skipped: no student)."""
        rng = self.rng
        self.seq += 1
        male = rng.random() < 0.52
        born = date(2026 - age, rng.randint(1, 8), rng.randint(1, 28))
        number = _id_number(rng, born, male)
        if number in self.used:
            return
        self.used.add(number)
        name = _name(rng)
        self.enrolled.append((name, number))
        data = StudentIn(
            class_id=class_id,
            name=name,
            student_no=f"G{number}",
            id_number=number,
            home_schooled=self.seq % 97 == 0,
            special_groups=SpecialGroups(
                left_behind=rng.random() < 0.15,
                poverty=rng.random() < 0.08,
                single_parent=rng.random() < 0.05,
            ),
            guardians=[
                GuardianIn(
                    name=_name(rng),
                    relation=rng.choice(("父亲", "母亲", "祖父", "祖母")),
                    mobile=f"137{rng.randrange(10**8):08d}",
                    is_primary=True,
                )
            ],
        )
        async with self.ctx.uow() as uow:
            await students.create_student(uow, self.ctx, _OPS, data)
