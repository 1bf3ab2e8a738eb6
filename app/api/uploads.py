"""Reading an uploaded file within the upload cap, and the 413 for a sheet with too many rows."""

from __future__ import annotations

from fastapi import HTTPException, UploadFile, status

from app.core.tables import TooManyRows


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


def too_many_rows(exc: TooManyRows) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc))
