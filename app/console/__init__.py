"""The web console (控制台) at ``/console/`` and the offline API docs.

Server-rendered Chinese pages (Jinja2, htmx and ECharts vendored under ``static/vendor``,
``manifest.json`` there records each file's npm package, version and SHA-256). The console
signs in with the same accounts and calls the same services as the API; see
``app/console/session.py`` for the cookie and CSRF decisions."""
