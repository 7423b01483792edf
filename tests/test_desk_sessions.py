"""Server-side /admin sessions (issue 16, attack 5): logout ends the session, and so do idle time, the
absolute lifetime, disabling the user and a new password; a user lists and ends their own sessions.

The attack: a cookie saved before `POST /admin/logout` still opened /admin/ and approved an announcement.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from tests.desk_support import (
    ADMIN_SECRET,
    COOKIE,
    PASSWORDS,
    admin_app,
    cli,
    csrf_of,
    draft,
    login,
    session_cookie,
    set_password,
)

END_FORM = re.compile(r'action="/admin/sessions/(\d+)/end"')
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def app(tmp_path, monkeypatch, frozen):
    return admin_app(tmp_path, monkeypatch)


def logged_in(browser) -> bool:
    response = browser.get("/admin/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def session_rows(app, name: str) -> list[dict]:
    query = text("SELECT s.* FROM desk_sessions s JOIN desk_users u ON u.id = s.user_id WHERE u.name = :name")
    with app.extensions["feedserver"].store.engine.connect() as connection:
        return [dict(row) for row in connection.execute(query, {"name": name}).mappings()]


def test_a_cookie_saved_before_logout_opens_nothing_and_approves_nothing_afterwards(app):
    anna, bernd = login(app, "anna"), login(app, "bernd")
    detail_url = draft(bernd).headers["Location"]
    page = anna.get(detail_url)
    assert "Version 1 freigeben" in page.get_data(as_text=True)
    saved_cookie, saved_csrf = session_cookie(anna), csrf_of(page)

    logout = anna.post("/admin/logout", data={"csrf_token": csrf_of(anna.get("/admin/"))})
    assert logout.status_code == 302

    thief = app.test_client()
    thief.set_cookie(COOKIE, saved_cookie, path="/admin", secure=True, httponly=True, samesite="Strict")
    assert thief.get("/admin/").status_code == 302  # to the login form
    replayed = thief.post(f"{detail_url}/approve", data={"version": "1", "csrf_token": saved_csrf})
    assert replayed.status_code in (302, 400) and replayed.headers.get("Location") != detail_url
    assert "Wartet auf Freigabe" in bernd.get(detail_url).get_data(as_text=True)  # still not approved
    assert [row["revoked_at"] is not None for row in session_rows(app, "anna")] == [True]


def test_disabling_a_user_or_setting_a_new_password_revokes_every_session_of_theirs(app):
    anna_here, anna_there, bernd = login(app, "anna"), login(app, "anna"), login(app, "bernd")
    cli(app, "users", "disable", "anna")
    assert not logged_in(anna_here) and not logged_in(anna_there)
    assert all(row["revoked_at"] is not None for row in session_rows(app, "anna"))

    bernd_elsewhere = login(app, "bernd")
    set_password(app, "bernd", "bernd-has-a-brand-new-password")
    assert not logged_in(bernd) and not logged_in(bernd_elsewhere)
    assert all(row["revoked_at"] is not None for row in session_rows(app, "bernd"))
    login(app, "bernd", "bernd-has-a-brand-new-password")


def test_a_session_ends_after_thirty_idle_minutes(app, frozen):
    anna = login(app, "anna")
    for _ in range(3):
        frozen.shift(timedelta(minutes=29))
        assert logged_in(anna)  # each request counts as activity
    frozen.shift(timedelta(minutes=30, seconds=1))
    assert not logged_in(anna)
    frozen.shift(timedelta(minutes=-31))
    assert not logged_in(anna)  # once ended, it stays ended


def test_a_busy_session_still_ends_eight_hours_after_login(app, frozen):
    anna = login(app, "anna")
    for _ in range(23):
        frozen.shift(timedelta(minutes=20))
        assert logged_in(anna)
    frozen.shift(timedelta(minutes=19, seconds=59))  # 7:59:59 after login
    assert logged_in(anna)
    frozen.shift(timedelta(seconds=1))
    assert not logged_in(anna)


def test_idle_timeout_and_lifetime_come_from_the_desk_config(tmp_path, monkeypatch, frozen):
    app = admin_app(tmp_path, monkeypatch, '[desk]\nsession_idle = "5m"\nsession_lifetime = "12m"\n')
    anna = login(app, "anna")
    frozen.shift(timedelta(minutes=5, seconds=1))
    assert not logged_in(anna)
    anna = login(app, "anna")
    for _ in range(2):
        frozen.shift(timedelta(minutes=4))
        assert logged_in(anna)
    frozen.shift(timedelta(minutes=4))
    assert not logged_in(anna)


def test_a_user_sees_their_own_sessions_and_ends_one_of_them(app):
    office = login(app, "anna", address="192.0.2.1")
    office.environ_base["HTTP_USER_AGENT"] = FIREFOX
    phone = app.test_client()
    phone.environ_base.update(REMOTE_ADDR="198.51.100.2", HTTP_USER_AGENT=SAFARI)
    token = csrf_of(phone.get("/admin/login"))
    form = {"name": "anna", "password": PASSWORDS["anna"], "csrf_token": token}
    assert phone.post("/admin/login", data=form).status_code == 302
    login(app, "bernd")  # someone else's session is not listed

    page = office.get("/admin/sessions")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "192.0.2.1" in html and "198.51.100.2" in html and "Safari" in html and "iOS" in html
    assert html.count("Diese Sitzung") == 1 and len(END_FORM.findall(html)) == 2
    [phone_id] = [i for i in END_FORM.findall(html) if i != _own_id(office)]

    no_token = office.post(f"/admin/sessions/{phone_id}/end")
    assert no_token.status_code == 400 and logged_in(phone)
    ended = office.post(f"/admin/sessions/{phone_id}/end", data={"csrf_token": csrf_of(page)})
    assert ended.status_code == 302 and ended.headers["Location"] == "/admin/sessions"
    assert not logged_in(phone) and logged_in(office)
    assert len(END_FORM.findall(office.get("/admin/sessions").get_data(as_text=True))) == 1


def test_ending_ones_current_session_on_the_list_logs_out(app):
    anna = login(app, "anna")
    page = anna.get("/admin/sessions")
    [own] = END_FORM.findall(page.get_data(as_text=True))
    ended = anna.post(f"/admin/sessions/{own}/end", data={"csrf_token": csrf_of(page)})
    assert ended.status_code == 302 and ended.headers["Location"] == "/admin/login"
    assert not logged_in(anna)


def test_a_user_cannot_end_someone_elses_session(app):
    anna, bernd = login(app, "anna"), login(app, "bernd")
    annas_id = _own_id(anna)
    page = bernd.get("/admin/sessions")
    refused = bernd.post(f"/admin/sessions/{annas_id}/end", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 404
    assert logged_in(anna) and logged_in(bernd)
    assert bernd.post("/admin/sessions/99999/end", data={"csrf_token": csrf_of(page)}).status_code == 404


def test_only_a_hash_of_the_session_id_is_stored_and_the_cookie_keeps_its_strict_flags(app):
    browser = app.test_client()
    token = csrf_of(browser.get("/admin/login"))
    form = {"name": "anna", "password": PASSWORDS["anna"], "csrf_token": token}
    response = browser.post("/admin/login", data=form)
    [cookie] = response.headers.getlist("Set-Cookie")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly"} <= set(flags)
    assert flags["samesite"] == "SameSite=Strict" and flags["path"] == "Path=/admin"

    signer = URLSafeTimedSerializer(ADMIN_SECRET, salt="feedserver.admin.session")
    sid = signer.loads(session_cookie(browser))["sid"]
    [row] = session_rows(app, "anna")
    assert row["sid_sha256"] == hashlib.sha256(sid.encode()).hexdigest()
    database = Path(app.extensions["feedserver"].settings.storage_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert sid.encode() not in stored


def _own_id(browser) -> str:
    """The id of the browser's own session, from the line marked as this session."""
    html = browser.get("/admin/sessions").get_data(as_text=True)
    row = next(r for r in html.split("<tr") if "Diese Sitzung" in r)
    return END_FORM.search(row).group(1)


@pytest.mark.services
def test_sessions_end_at_logout_on_postgresql(tmp_path, monkeypatch, frozen, migrated_pg_url):
    app = admin_app(tmp_path, monkeypatch, storage_url=migrated_pg_url)
    anna = login(app, "anna")
    saved = session_cookie(anna)
    assert len(END_FORM.findall(anna.get("/admin/sessions").get_data(as_text=True))) == 1
    anna.post("/admin/logout", data={"csrf_token": csrf_of(anna.get("/admin/"))})
    thief = app.test_client()
    thief.set_cookie(COOKIE, saved, path="/admin", secure=True, httponly=True, samesite="Strict")
    assert not logged_in(thief)
    assert [row["revoked_at"] is not None for row in session_rows(app, "anna")] == [True]
