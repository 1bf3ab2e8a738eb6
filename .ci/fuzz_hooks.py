"""Schemathesis hooks for .ci/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

The fuzzer must not saw off the branch it sits on: a change to the signed-in staff member's
own record (deactivation, a new password, a removed role) ends its session, and every later
request would answer 401 and test nothing. Those cases are dropped; the same operations on
every other id are still generated.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

_OWN = os.environ.get("FUZZ_OWN_STAFF_ID", "")


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    if case.method.upper() in ("GET", "HEAD"):
        return True
    staff_id = (case.path_parameters or {}).get("staff_id")
    return str(staff_id) != _OWN
