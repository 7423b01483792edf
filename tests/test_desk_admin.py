"""/admin for people: 503 without a secret, strict session cookie, CSRF on every form, the four-eyes flow."""

from __future__ import annotations

import logging

import feedparser
import pytest
import time_machine

from tests.desk_support import PASSWORDS, admin_app, cli, csrf_of, desk_feeds, draft, login


@pytest.fixture
def app(tmp_path, monkeypatch, frozen):
    """An app whose [server] has secret_key = { env = ... }, with two presse approvers who have passwords."""
    return admin_app(tmp_path, monkeypatch)


def test_without_a_secret_key_the_admin_page_answers_503_and_logs_why(make_app, caplog):
    app = make_app(desk_feeds())
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="feedserver.web.admin"):
        for path in ("/admin/", "/admin/login"):
            response = client.get(path)
            assert response.status_code == 503
            assert response.mimetype == "application/problem+json"
            assert "Set-Cookie" not in response.headers
        assert client.post("/admin/login", data={"name": "x"}).status_code == 503
    assert "FEEDSERVER_SECRET_KEY" in caplog.text


def test_the_login_page_sets_the_only_cookie_and_it_is_secure_httponly_samesite_strict(app):
    client = app.test_client()
    for path in ("/", "/feeds/presse.rss", "/opml", "/api/v1/desk/announcements"):
        assert "Set-Cookie" not in client.get(path).headers, path
    response = client.get("/admin/login")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [cookie] = response.headers.getlist("Set-Cookie")
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
    assert cookie.startswith("feedserver_admin=")
    assert {"secure", "httponly", "samesite", "path"} <= set(flags)
    assert flags["samesite"].strip() == "SameSite=Strict" and flags["path"].strip() == "Path=/admin"
    page = response.get_data(as_text=True)
    assert '<html lang="de">' in page and '<main id="main">' in page and '<label for="password">' in page
    assert "<script" not in page and "style=" not in page


def test_a_post_without_or_with_another_sessions_csrf_token_is_refused_with_400(app):
    browser, stranger = app.test_client(), app.test_client()
    browser.get("/admin/login")
    foreign = csrf_of(stranger.get("/admin/login"))
    credentials = {"name": "anna", "password": PASSWORDS["anna"]}
    assert browser.post("/admin/login", data=credentials).status_code == 400
    assert browser.post("/admin/login", data=credentials | {"csrf_token": foreign}).status_code == 400
    assert browser.post("/admin/login", data=credentials | {"csrf_token": "forged"}).status_code == 400

    anna = login(app, "anna")
    refused = anna.post("/admin/new", data={"feed": "presse", "title": "Ohne Token"})
    assert refused.status_code == 400
    assert "Ohne Token" not in anna.get("/admin/").get_data(as_text=True)


def test_a_wrong_password_is_refused_and_a_login_starts_a_fresh_session(app):
    browser = app.test_client()
    page = browser.get("/admin/login")
    anonymous = page.headers["Set-Cookie"].split(";")[0]
    wrong = browser.post(
        "/admin/login", data={"name": "anna", "password": "guess", "csrf_token": csrf_of(page)}
    )
    assert wrong.status_code == 401 and "falsch" in wrong.get_data(as_text=True)
    assert browser.get("/admin/").status_code == 302  # still not logged in
    good = {"name": "anna", "password": PASSWORDS["anna"], "csrf_token": csrf_of(page)}
    response = browser.post("/admin/login", data=good)
    assert response.status_code == 302
    assert response.headers["Set-Cookie"].split(";")[0] != anonymous  # no session fixation
    assert browser.get("/admin/").status_code == 200


def test_drafting_approving_and_withdrawing_through_the_forms(app):
    anna, bernd = login(app, "anna"), login(app, "bernd")
    created = draft(anna, publish_at="2026-11-21T10:20", expires="2026-11-28T18:00")
    assert created.status_code == 302
    detail_url = created.headers["Location"]
    own_view = anna.get(detail_url).get_data(as_text=True)
    assert "freigeben</button>" not in own_view and "eine andere Person muss sie freigeben" in own_view
    assert "Wochenmarkt fällt aus" in anna.get("/admin/").get_data(as_text=True)

    page = bernd.get(detail_url)
    assert "Version 1 freigeben" in page.get_data(as_text=True)
    approved = bernd.post(f"{detail_url}/approve", data={"version": "1", "csrf_token": csrf_of(page)})
    assert approved.status_code == 302
    with time_machine.travel("2026-11-21T09:21:00+00:00", tick=False):  # 10:21 in Berlin, sessions not idle
        entries = feedparser.parse(bernd.get("/feeds/presse.atom").data).entries
        assert [e.title for e in entries] == ["Wochenmarkt fällt aus"]
        withdrawn = anna.post(f"{detail_url}/withdraw", data={"csrf_token": csrf_of(anna.get(detail_url))})
        assert withdrawn.status_code == 302
        assert feedparser.parse(bernd.get("/feeds/presse.atom").data).entries == []

    audit = anna.get("/admin/audit").get_data(as_text=True)
    for action in ("angelegt", "freigegeben", "zurückgezogen"):  # create, approve, withdraw in German
        assert f"<td>{action}</td>" in audit


def test_self_approval_through_the_form_is_refused_with_403(app):
    anna = login(app, "anna")
    detail_url = draft(anna).headers["Location"]
    response = anna.post(
        f"{detail_url}/approve", data={"version": "1", "csrf_token": csrf_of(anna.get(detail_url))}
    )
    assert response.status_code == 403
    assert "Vier-Augen-Prinzip" in response.get_data(as_text=True)  # the refusal in the page's language
    response = anna.post(
        f"{detail_url}/approve?lang=en", data={"version": "1", "csrf_token": csrf_of(anna.get(detail_url))}
    )
    assert response.status_code == 403
    assert "someone other than its author" in response.get_data(as_text=True)


def test_an_edit_makes_a_new_version_that_needs_a_new_approval(app):
    anna, bernd = login(app, "anna"), login(app, "bernd")
    detail_url = draft(anna).headers["Location"]
    bernd.post(f"{detail_url}/approve", data={"version": "1", "csrf_token": csrf_of(bernd.get(detail_url))})
    form = anna.get(f"{detail_url}/edit")
    assert 'value="Wochenmarkt fällt aus"' in form.get_data(as_text=True)
    edited = anna.post(
        f"{detail_url}/edit", data={"title": "Wochenmarkt findet statt", "csrf_token": csrf_of(form)}
    )
    assert edited.status_code == 302
    page = bernd.get(detail_url).get_data(as_text=True)
    assert "Version 2 freigeben" in page and "Online</dt><dd>Version 1" in page
    assert [e.title for e in feedparser.parse(bernd.get("/feeds/presse.rss").data).entries] == [
        "Wochenmarkt fällt aus"
    ]


def test_form_errors_come_back_as_422_next_to_the_fields_and_staff_text_is_escaped(app):
    anna = login(app, "anna")
    invalid = draft(anna, link="ftp://example.org/plan")
    assert invalid.status_code == 422
    page = invalid.get_data(as_text=True)
    assert 'id="link" name="link" type="url"' in page and 'aria-describedby="link-error"' in page
    assert 'value="ftp://example.org/plan"' in page  # the user's own input, to correct it
    too_early = draft(anna, expires="2026-11-20T08:00")  # before publication (now)
    assert too_early.status_code == 422 and 'id="expires-error"' in too_early.get_data(as_text=True)
    created = draft(anna, title="Preis < 5 € & mehr")
    detail = anna.get(created.headers["Location"]).get_data(as_text=True)
    assert "Preis &lt; 5 € &amp; mehr" in detail and "Preis < 5" not in detail


def test_a_password_change_ends_existing_sessions_and_logout_clears_the_cookie(app):
    anna = login(app, "anna")
    new = "anna-has-a-new-long-password"
    cli(app, "users", "password", "anna", input=f"{new}\n{new}\n")
    assert anna.get("/admin/").status_code == 302
    bernd = login(app, "bernd")
    response = bernd.post("/admin/logout", data={"csrf_token": csrf_of(bernd.get("/admin/"))})
    assert response.status_code == 302
    assert (
        "Max-Age=0" in response.headers["Set-Cookie"]
        or "expires=Thu, 01 Jan 1970" in response.headers["Set-Cookie"]
    )
    assert bernd.get("/admin/").status_code == 302
