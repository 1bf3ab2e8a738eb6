"""``python -m app.alerts``, the engine process's name before the engine's runner moved to
``app/jobs``: kept so a deployment whose process manager still starts it keeps working. It
runs ``python -m app.jobs`` (by name, so this package imports nothing of app/jobs)."""

import runpy

runpy.run_module("app.jobs", run_name="__main__", alter_sys=True)
