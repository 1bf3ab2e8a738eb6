"""Write the published contract to a file without serving: ``python clients/dump_openapi.py
OUT.json`` (``make client`` generates both clients from it; .ci/client reads the live
/openapi.json instead, which is the same document)."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KCBX_ENVIRONMENT", "development")

from app.main import create_app  # after the environment: settings read it

if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(create_app().openapi(), out, ensure_ascii=False, indent=1)
