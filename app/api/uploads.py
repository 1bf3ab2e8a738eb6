"""Reading an uploaded file within the upload cap, and running an import within its bounds.

``bounded_import`` wraps everything an import route does with its file (reading the upload,
parsing it, checking and writing the rows):

- **a slot**: at most ``KCBX_IMPORT_MAX_CONCURRENT`` imports run at once in one process; one
  more is answered **429** (code ``import.busy``) with ``Retry-After``, at once, before its file
  is read. 429 rather than 503: the server is well, the caller is asked to come back (as the
  sign-in throttle does), and 5xx stays for faults that page someone;
- **limits** (``ReadLimits`` from the settings) the readers obey, and a **deadline**
  ``KCBX_IMPORT_TIME_LIMIT_SECONDS`` after the slot was taken: reading the file and checking
  its rows stop there (413, code ``import.time_limit``). Writing the accepted rows, once begun,
  is not interrupted: a cancelled commit would leave the caller unsure whether it happened.
  The deadline is checked by the reading thread itself (on every 64 KiB of XML, every 1,000
  CSV rows, every row checked), so the work stops, not just the wait for it;
- **answers**: a file beyond a limit is **413** with the limit's code
  (``import.workbook_too_large``, ``import.too_many_strings``, ``import.row_too_wide``,
  ``import.cell_too_long``, ``import.time_limit``; too many rows keeps ``payload_too_large``),
  a file that is no readable table **422** with ``loc: [body, file]``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import HTTPException, UploadFile, status

from app.context import AppContext
from app.core.tables import FileError, ReadLimits, TooLarge
from app.errors import Invalid, PayloadTooLarge, RateLimited

IMPORT_RETRY_AFTER_SECONDS = 30
log = logging.getLogger("kcbx.imports")


# What every import operation documents besides its own answers (OpenAPI ``responses``).
IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {
        "description": "文件过大:超过 10 MB、行数上限,或工作簿解压后过大、共享字符串/单元格过多、"
        "单元格过长、读取超时 (too large: code payload_too_large or import.*)"
    },
    429: {
        "description": "导入任务已满,请按 Retry-After 稍后重试 (too many imports running; "
        "code import.busy)"
    },
}


class ImportsBusy(RateLimited):
    code = "import.busy"


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, read in chunks and refused (413) the moment it passes the cap.
    (The body itself was already counted while it streamed: app/api/guards.py.)"""
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(256 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"文件超过 {max_bytes // (1024 * 1024)} MB,请拆分后分批导入 "
                f"(file larger than {max_bytes} bytes: split it)",
            )
        chunks.append(chunk)
    return b"".join(chunks)


@asynccontextmanager
async def bounded_import(ctx: AppContext) -> AsyncIterator[ReadLimits]:
    """A slot among the concurrent imports and the limits to read with (see the module)."""
    if not ctx.import_slots.take(ctx.settings.import_max_concurrent):
        raise ImportsBusy(
            f"导入任务已满 ({ctx.settings.import_max_concurrent} 个进行中),请稍后重试 "
            "(too many imports running: retry shortly)",
            retry_after=IMPORT_RETRY_AFTER_SECONDS,
        )
    try:
        yield ReadLimits.of(ctx.settings)
    except TooLarge as exc:
        _log_refusal(exc.code, exc)
        raise PayloadTooLarge(str(exc), exc.code) from exc
    except FileError as exc:
        _log_refusal("unreadable", exc)
        raise Invalid.field(("body", "file"), str(exc)) from exc
    finally:
        ctx.import_slots.give_back()


def _log_refusal(code: str, exc: FileError) -> None:
    """What was refused and how much was unpacked first (never the file's content)."""
    log.info(
        "import file refused: %s, %s bytes unpacked",
        code,
        exc.inflated,
        extra={"refusal": code, "inflated": exc.inflated},
    )
