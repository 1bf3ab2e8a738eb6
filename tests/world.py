"""A small county to test against, built through the real services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

from app.context import AppContext
from app.db.models import Staff, Student
from app.domain.access import Actor, ActorKind
from app.domain.idcard import check_character
from app.domain.roles import Role
from app.org import service as org
from app.org import staff
from app.org.schemas import ClassIn, CountyIn, GradeIn, SchoolIn, SchoolKind, TownshipIn
from app.org.staff_schemas import GrantIn, StaffIn
from app.roster import students
from app.roster.schemas import GuardianIn, SpecialGroups, StudentIn
from app.security.tokens import issue_token

OPS = Actor(kind=ActorKind.staff, id=0, name="ops", superuser=True)


def id_number(seq: int, born: date = date(2015, 3, 7), male: bool = True) -> str:
    """A valid 18-character ID number (GB 11643) for a test child."""
    order = f"{(seq % 50) * 2 + (1 if male else 0):03d}"[-3:]
    region = f"5301{seq // 50 % 100:02d}"
    first17 = f"{region}{born:%Y%m%d}{order}"
    return first17 + check_character(first17)


_mobile_seq = iter(range(10_000_000))


def next_mobile() -> str:
    return f"139{next(_mobile_seq):08d}"


@dataclass
class World:
    ctx: AppContext
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def add_student(self, key: str, class_key: str, seq: int, **extra: object) -> int:
        number = id_number(seq)
        data = StudentIn(
            class_id=self.ids[class_key],
            name=f"学生{seq}",
            student_no=f"G{number}",
            id_number=number,
            guardians=[GuardianIn(name="家长", relation="母亲", mobile=next_mobile())],
            special_groups=SpecialGroups(left_behind=True),
            **extra,  # type: ignore[arg-type]
        )
        async with self.ctx.uow() as uow:
            out = await students.create_student(uow, self.ctx, OPS, data)
        self.ids[key] = out.id
        return out.id

    async def add_operator(self, key: str = "operator") -> int:
        """A superuser (系统运维) whose row, as in the field, names a county."""
        async with self.ctx.uow() as uow:
            row = Staff(county_id=self.ids["county"], name="运维", mobile=next_mobile())
            row.is_superuser = True
            uow.session.add(row)
            await uow.commit()
            assert row.id is not None
            self.ids[key] = row.id
        self.tokens[key] = self._token(row.id)
        return row.id

    def _token(self, staff_id: int) -> str:
        return issue_token(
            staff_id,
            secret=self.ctx.settings.secret_key,
            issuer=self.ctx.settings.jwt_issuer,
            now=self.ctx.wall_clock(),  # tokens live on the real clock, not the simulation's
            minutes=60 * 24,
        )

    async def add_staff(self, key: str, role: Role, scope: str, password: str | None = None) -> int:
        grant = GrantIn(role=role)
        scope_id = self.ids[scope]
        if scope.startswith("county"):
            grant.county_id = scope_id
        elif scope.startswith("school"):
            grant.school_id = scope_id
        else:
            grant.class_id = scope_id
        home = {"school_id": scope_id} if scope.startswith("school") else {}
        if scope.startswith("class"):
            home = {"school_id": self.ids["school_" + scope.split("_")[1][0]]}
        data = StaffIn(
            county_id=self.ids["county"] if not home else None,
            name=key,
            mobile=next_mobile(),
            password=password,
            roles=[grant],
            **home,  # type: ignore[arg-type]
        )
        async with self.ctx.uow() as uow:
            out = await staff.create_staff(uow, OPS, data)
        self.ids[key] = out.id
        self.tokens[key] = self._token(out.id)
        return out.id


async def build_world(ctx: AppContext) -> World:
    """County with schools A and B (classes A1, A2, B1), and another county with school Z."""
    w = World(ctx)
    async with ctx.uow() as uow:
        w.ids["county"] = (await org.create_county(uow, OPS, CountyIn(name="示例县", code="C1"))).id
    async with ctx.uow() as uow:
        w.ids["county_other"] = (
            await org.create_county(uow, OPS, CountyIn(name="邻县", code="C2"))
        ).id
    for county in ("county", "county_other"):
        async with ctx.uow() as uow:
            t = await org.create_township(uow, OPS, TownshipIn(county_id=w.ids[county], name="镇"))
        w.ids[f"township_{county}"] = t.id
    for school, county in (("A", "county"), ("B", "county"), ("Z", "county_other")):
        async with ctx.uow() as uow:
            s = await org.create_school(
                uow,
                OPS,
                SchoolIn(
                    township_id=w.ids[f"township_{county}"],
                    name=f"学校{school}",
                    code=f"S{school}",
                    kind=SchoolKind.primary,
                ),
            )
            w.ids[f"school_{school}"] = s.id
            g = await org.create_grade(uow, OPS, GradeIn(school_id=s.id, level=3))
            w.ids[f"grade_{school}"] = g.id
    for klass in ("A1", "A2", "B1", "Z1"):
        async with ctx.uow() as uow:
            c = await org.create_class(
                uow, OPS, ClassIn(grade_id=w.ids[f"grade_{klass[0]}"], name=klass)
            )
        w.ids[f"class_{klass}"] = c.id
    for i, klass in enumerate(("A1", "A2", "B1", "Z1")):
        await w.add_student(f"student_{klass}", f"class_{klass}", i + 1)
    await w.add_staff("county_admin", Role.county_admin, "county")
    await w.add_staff("principal", Role.principal, "school_A")
    await w.add_staff("vice_principal", Role.vice_principal, "school_A")
    await w.add_staff("academic_affairs", Role.academic_affairs, "school_A")
    await w.add_staff("head_teacher", Role.head_teacher, "class_A1")
    await w.add_staff("subject_teacher", Role.subject_teacher, "class_A1")
    await w.add_staff("principal_B", Role.principal, "school_B")
    await w.add_staff("vice_principal_B", Role.vice_principal, "school_B")
    return w


# --- named worlds ---------------------------------------------------------------------------
# A test file asks for more than the base county with ``pytestmark = pytest.mark.world(name,
# ...)``; the one ``world`` fixture (tests/conftest.py) builds the base and adds each named
# extra in order. ``pytest.mark.world(settings={...})`` builds the county under changed settings.

TEACHER_PASSWORD = "first-pass-1"


async def _two_per_class(w: World) -> None:
    """A second child in A1 and A2: the reports' and reviews' county."""
    await w.add_student("student_A1b", "class_A1", 11)
    await w.add_student("student_A2b", "class_A2", 12)


async def _school_age(w: World) -> None:
    """Two per class, a second in B1 and a third in A1, the township 青山镇 and the other
    county's admin: the school-age register's county."""
    await _two_per_class(w)
    await w.add_student("student_B1b", "class_B1", 13)
    await w.add_student("student_A1c", "class_A1", 14)
    async with w.ctx.uow() as uow:
        t = await org.create_township(
            uow, OPS, TownshipIn(county_id=w.ids["county"], name="青山镇")
        )
    assert t.id is not None
    w.ids["township_qingshan"] = t.id
    await w.add_staff("county_admin_other", Role.county_admin, "county_other")


async def _class_of_four(w: World) -> None:
    """A1 with four children: student_A1 and student_A1_2 … student_A1_4."""
    for n in range(2, 5):
        await w.add_student(f"student_A1_{n}", "class_A1", 100 + n)


async def _late_and_leave(w: World) -> None:
    await w.add_student("late_one", "class_A1", 301)
    await w.add_student("on_leave", "class_A1", 302)


async def _teacher_with_password(w: World) -> None:
    """``teacher``: A2's head teacher, who signs in with ``TEACHER_PASSWORD``."""
    await w.add_staff("teacher", Role.head_teacher, "class_A2", TEACHER_PASSWORD)


async def _care(w: World) -> None:
    """A2's subject teacher; plain_A1 in no special group; student_A2 in several (disabled,
    poverty, left behind)."""
    await w.add_staff("teacher_A2", Role.subject_teacher, "class_A2")
    await w.add_student("plain_A1", "class_A1", 5)
    async with w.ctx.uow() as uow:
        plain = await uow.session.get(Student, w.ids["plain_A1"])
        several = await uow.session.get(Student, w.ids["student_A2"])
        assert plain is not None and several is not None
        plain.left_behind = False
        several.disabled = True
        several.poverty = True
        uow.session.add_all([plain, several])
        await uow.commit()


WORLDS: dict[str, Callable[[World], Awaitable[None]]] = {
    "two_per_class": _two_per_class,
    "school_age": _school_age,
    "class_of_four": _class_of_four,
    "late_and_leave": _late_and_leave,
    "teacher_with_password": _teacher_with_password,
    "care": _care,
}
