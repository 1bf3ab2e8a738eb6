"""The console in a real browser: Playwright driving the distribution's Chromium
(``/usr/bin/chromium``, Debian's package; never ``playwright install``).

A live server (``python -m app.cli.serve``, migrations and the demo seed) on a free port;
the database is SQLite, or ``BROWSER_DATABASE_URL`` (PostgreSQL: its own database, recreated).
Each test signs in through the console's form, opens its pages, compares the figures shown
with the API's answers (bearer token), follows a drill-down, downloads an XLSX, and fails on
any request to a host that is not the test server and on any console JavaScript error.
Screenshots go to build/screenshots/. Marker ``browser``: not part of ``make test``;
``.ci/run`` runs it (``-m browser``). Without Chromium the tests skip (they fail when
``BROWSER_REQUIRED`` is set, as in ``.ci/run``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / os.environ.get("SCREENSHOTS", "build/screenshots")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "demo1234"
COUNTY_ADMIN, PRINCIPAL, HEAD_TEACHER = "13800000001", "13800000002", "13800000005"

if not Path(CHROMIUM).exists() and os.environ.get("BROWSER_REQUIRED"):
    pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs it", pytrace=False)
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    tmp = Path(tempfile.mkdtemp(prefix="kcbx-browser-"))
    port = _free_port()
    url = os.environ.get("BROWSER_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/console.db"
    env = {
        **os.environ,
        "KCBX_DATABASE_URL": url,
        "KCBX_ENVIRONMENT": "development",
        "KCBX_SEED_DEMO": "true",
        "KCBX_HOST": "127.0.0.1",
        "KCBX_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli.serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"{root}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "server not ready"
                time.sleep(0.5)
        yield root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        text = (tmp / "server.log").read_text(errors="replace")
        shutil.rmtree(tmp, ignore_errors=True)
        assert "Exception in ASGI application" not in text, text[-4000:]


def api(base: str, mobile: str, path: str) -> Any:
    form = urllib.parse.urlencode({"username": mobile, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token", data=form, timeout=30) as r:
        token = json.load(r)["access_token"]
    req = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Watched:
    """A page that records requests to other hosts and JavaScript errors."""

    def __init__(self, browser: Any, base: str, *, phone: bool = False) -> None:
        host = urllib.parse.urlsplit(base).netloc
        size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
        self.context = browser.new_context(viewport=size, accept_downloads=True)
        self.page = self.context.new_page()
        self.foreign: list[str] = []
        self.errors: list[str] = []

        def on_request(request: Any) -> None:
            parts = urllib.parse.urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != host:
                self.foreign.append(request.url)

        self.page.on("request", on_request)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.refused_urls: set[str] = set()  # pages a test opens to see them refused (403)

        def on_console(m: Any) -> None:
            if m.type == "error" and m.location.get("url") not in self.refused_urls:
                self.errors.append(f"{m.text} ({m.location.get('url')})")

        self.page.on("console", on_console)
        # Nothing leaves the machine even if a page asked for it (the check above reports it).
        self.context.route(
            lambda url: urllib.parse.urlsplit(url).netloc != host,
            lambda route: route.abort(),
        )
        self.base = base

    def open(self, path: str) -> Any:
        self.page.goto(self.base + path, wait_until="networkidle")
        return self.page

    def refused(self, path: str) -> Any:
        """Opens a page the person may not see: a 403 page, not an error of the console."""
        self.refused_urls.add(self.base + path)
        response = self.page.goto(self.base + path)
        assert response.status == 403
        assert "无权访问" in self.page.content()
        return response

    def sign_in(self, mobile: str) -> None:
        page = self.open("/console/login")
        page.fill("#username", mobile)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    def shot(self, name: str, *, full_page: bool = True) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page, timeout=90_000)

    def close(self) -> None:
        self.context.close()
        assert self.foreign == [], self.foreign
        assert self.errors == [], self.errors


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def test_docs_and_index_load_offline(browser: Any, base: str) -> None:
    w = Watched(browser, base)
    page = w.open("/")
    assert "控制台" in page.content()
    page = w.open("/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=30_000)
    w.shot("docs-swagger", full_page=False)
    page = w.open("/redoc")
    page.wait_for_selector("redoc h1, .api-info h1, h1", timeout=30_000)
    w.shot("docs-redoc", full_page=False)
    w.close()


def test_county_admin_sees_the_api_figures_and_drills_down(browser: Any, base: str) -> None:
    w = Watched(browser, base)
    page = w.open("/console/county")
    assert "/console/login" in page.url  # no session yet: sign-in first
    w.sign_in(COUNTY_ADMIN)
    assert page.url.endswith("/console/county")
    page.wait_for_selector("#trend canvas, #trend svg", timeout=30_000)
    w.shot("county")
    me = api(base, COUNTY_ADMIN, "/api/v1/auth/me")
    county_id = me["roles"][0]["county_id"]
    rates = api(base, COUNTY_ADMIN, f"/api/v1/reports/rates?county_id={county_id}")
    for line in rates["schools"]:
        row = page.locator(f"#rates tr[data-school='{line['school_id']}'] td")
        assert row.nth(1).inner_text() == str(line["enrolled"])
        assert row.nth(3).inner_text() == str(line["dropouts"])
    schools = api(base, COUNTY_ADMIN, f"/api/v1/schools?county_id={county_id}")["items"]
    total = 0
    for school in schools:
        cells = page.locator(f"#schools tr[data-school='{school['id']}'] td")
        for i, level in ((2, "blue"), (3, "yellow"), (4, "red")):
            want = api(
                base,
                COUNTY_ADMIN,
                f"/api/v1/alerts?school_id={school['id']}&level={level}&status=raised&limit=1",
            )["total"]
            assert cells.nth(i).inner_text() == str(want), (school["name"], level)
            total += want
    assert text_of(page, "#fig-open-alerts") == str(total)
    print(f"\ncounty: open alerts shown {text_of(page, '#fig-open-alerts')}, API {total}")
    # 疫情预警: the demo's class cluster, as GET /illness/alerts answers it, no child named
    illness = api(base, COUNTY_ADMIN, f"/api/v1/illness/alerts?county_id={county_id}")
    pending = [a for a in illness if a["status"] != "reported"]
    assert pending, "the demo seeds a class cluster"
    assert text_of(page, "#fig-illness") == str(len(pending))
    for a in illness:
        cells = page.locator(f"#illness tr[data-illness='{a['id']}'] td")
        assert cells.nth(4).inner_text() == str(a["count"])
        assert cells.nth(5).inner_text() == a["status_label"]
    names = [c["student_name"] for a in illness for c in a["cases"] if c["student_name"]]
    assert not any(n in text_of(page, "#illness") for n in names)
    print(f"county: illness pending shown {text_of(page, '#fig-illness')}, API {len(pending)}")
    # the XLSX twin, downloaded with the session cookie
    with page.expect_download() as info:
        page.locator("text=下载 XLSX").first.click()
    path = info.value.path()
    assert Path(path).read_bytes()[:2] == b"PK"
    # drill-down: county → school → class → case
    page.click(f"#schools a[href='/console/schools/{schools[0]['id']}']")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/console/schools/{schools[0]['id']}")
    page.click("#classes a >> nth=0")
    page.wait_for_load_state("networkidle")
    assert "/console/classes/" in page.url
    w.shot("county-drill-class")
    # the head teacher's page is not the county admin's: a clear 403 page
    w.refused("/console/teacher")
    w.close()


def test_principal_sees_the_school(browser: Any, base: str) -> None:
    w = Watched(browser, base, phone=True)
    w.sign_in(PRINCIPAL)
    page = w.page
    assert "/console/schools/" in page.url
    school_id = int(page.url.rsplit("/", 1)[1])
    page.wait_for_selector("#trend canvas, #trend svg", timeout=30_000)
    w.shot("school-phone")
    cases = api(base, PRINCIPAL, f"/api/v1/cases?school_id={school_id}&status=open&limit=500")
    assert text_of(page, "#fig-open-cases") == str(cases["total"])
    assert page.locator("table.cases tr").count() - 1 == max(cases["total"], 1)
    roll = api(
        base,
        PRINCIPAL,
        f"/api/v1/reports/absence-trend?school_id={school_id}&start=2026-09-01&end=2026-12-31",
    )
    assert roll["schools"][0]["school_id"] == school_id
    print(f"\nschool: open cases shown {text_of(page, '#fig-open-cases')}, API {cases['total']}")
    illness = api(base, PRINCIPAL, f"/api/v1/illness/alerts?school_id={school_id}")
    pending = [a for a in illness if a["status"] != "reported"]
    assert text_of(page, "#fig-illness") == str(len(pending))
    print(f"school: illness pending shown {text_of(page, '#fig-illness')}, API {len(pending)}")
    # the day's 因病缺勤日报 as XLSX, with the session cookie
    with page.expect_download() as info:
        page.locator("a[href^='/api/v1/illness/summary.xlsx']").click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"
    if cases["total"]:
        page.click("table.cases a >> nth=0")
        page.wait_for_load_state("networkidle")
        assert "/console/cases/" in page.url
        w.shot("case")
    # a county page is not the principal's
    w.refused("/console/county")
    w.close()


def test_head_teacher_sees_the_class(browser: Any, base: str) -> None:
    w = Watched(browser, base)
    w.sign_in(HEAD_TEACHER)
    page = w.page
    assert page.url.endswith("/console/teacher")
    w.shot("teacher")
    me = api(base, HEAD_TEACHER, "/api/v1/auth/me")
    class_id = min(r["class_id"] for r in me["roles"] if r["role"] == "head_teacher")
    roll = api(base, HEAD_TEACHER, f"/api/v1/classes/{class_id}/roll")
    assert page.locator("#roll tr[data-student]").count() == len(roll["students"])
    for s in roll["students"][:5]:
        cell = page.locator(f"#roll tr[data-student='{s['student_id']}'] td").nth(1)
        assert cell.inner_text() == s["day_status_label"]
    inbox = api(base, HEAD_TEACHER, "/api/v1/inbox?limit=1")
    assert text_of(page, "#unread") == str(inbox["unread"])
    print(f"\nteacher: roll rows {len(roll['students'])}, unread {inbox['unread']}")
    if inbox["unread"]:
        # htmx: 标为已读 swaps the row in place (the CSRF header rides along)
        row = page.locator("#inbox tr[data-notice]").filter(has=page.locator("button")).first
        notice = row.get_attribute("data-notice")
        row.locator("button").click()
        page.wait_for_selector(f"#notice-{notice} .ok")
        assert page.url.endswith("/console/teacher")  # no navigation
        after = api(base, HEAD_TEACHER, "/api/v1/inbox?limit=1")["unread"]
        assert after == inbox["unread"] - 1
        print(f"teacher: marked read in the browser, API unread {inbox['unread']} -> {after}")
    # a stale session goes back to sign-in
    w.context.clear_cookies()
    page.goto(base + "/console/teacher")
    assert "/console/login" in page.url
    w.close()
