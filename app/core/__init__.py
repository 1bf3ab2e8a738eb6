"""What every feature shares: access checks over an actor's scope (``access``), query scope
filters, paging and row locks (``scope``), records looked up and changed the same way
(``records``), a school's date, the school year and the configured timezone (``time``),
document numbers (``documents``), bounded input types and text rules (``types``, ``text``,
``dates``), spreadsheet imports' errors, limits and slots (``tables``), reading an uploaded
workbook within bounds (``workbooks``), report files and XLSX (``report_files``, ``xlsx``),
the engine clock (``clock``), the per-process reference cache (``cache``), the access log's
record of what a response showed (``read_scope``), the logging configuration of every
process (``logs``) and the in-process Prometheus counters (``metrics``).

Small on purpose: a helper lives here only when more than one feature needs it; anything
one feature owns stays in that feature's service.
"""
