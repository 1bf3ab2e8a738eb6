"""The unit of work: the one place that commits.

Services receive a ``UnitOfWork``, read and write through its repositories, and call
``commit()`` once when the whole change is valid. Anything that leaves the block without a
commit is rolled back, so a failed request writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        on_commit: Callable[[set[str]], None] | None = None,
    ) -> None:
        self._factory = session_factory
        self._session: AsyncSession | None = None
        self._on_commit = on_commit
        self._touched: set[str] = set()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._factory()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            # Detach first: objects read here stay readable after the block, while anything
            # not committed is still rolled back.
            session.expunge_all()
            await session.rollback()
        finally:
            await session.close()
            self._session = None

    def _note_changes(self) -> None:
        session = self.session
        for obj in (*session.new, *session.dirty, *session.deleted):
            self._touched.add(getattr(obj, "__tablename__", ""))

    async def flush(self) -> None:
        """Flush pending writes; a unique-key violation becomes a 409."""
        self._note_changes()
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(*_describe(exc)) from exc

    async def commit(self) -> None:
        """Commit; then tell the reference caches which tables changed (ORM writes only:
        Core statements are used for attendance, which is not cached)."""
        self._note_changes()
        try:
            await self.session.commit()
        except IntegrityError as exc:
            await self.session.rollback()
            raise Conflict(*_describe(exc)) from exc
        if self._on_commit is not None and self._touched:
            self._on_commit(self._touched)
        self._touched = set()


def _describe(exc: IntegrityError) -> tuple[str, str]:
    """The message and the problem code of a violated constraint."""
    text = str(exc.orig).lower()
    for needle, message, code in _CONSTRAINT_MESSAGES:
        if needle in text:
            return message, f"conflict.{code}"
    return "与已有数据冲突 (conflicts with existing data)", "conflict"


_CONSTRAINT_MESSAGES = (
    ("student_no", "学籍号已存在 (duplicate 学籍号)", "duplicate_student_no"),
    ("id_number_hash", "身份证号已存在 (duplicate ID number)", "duplicate_id_number"),
    (
        "uq_one_head_teacher_per_class",
        "该班已有班主任 (the class already has a head teacher)",
        "head_teacher_taken",
    ),
    (
        "uq_one_principal_per_school",
        "该校已有校长 (the school already has a principal)",
        "principal_taken",
    ),
    (
        "staff.mobile",
        "手机号已被其他教职工使用 (mobile already used by another staff member)",
        "duplicate_mobile",
    ),
    (
        "uq_staff_mobile",
        "手机号已被其他教职工使用 (mobile already used by another staff member)",
        "duplicate_mobile",
    ),
    ("code", "代码已存在 (duplicate code)", "duplicate_code"),
    ("name", "名称已存在 (duplicate name)", "duplicate_name"),
    ("foreign key", "引用的对象不存在 (a referenced object does not exist)", "missing_reference"),
)
