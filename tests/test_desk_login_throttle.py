"""Login throttling (issue 16, attack 4): per account and per client address, in the database, growing locks.

The attack: 30 wrong passwords in 10 s got 30 x 401 and no 429, and then the right password worked.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from feedserver.app import create_app
from feedserver.desk import auth
from feedserver.tables import desk_audit
from tests.desk_support import (
    API,
    PASSWORDS,
    add_user,
    admin_app,
    bearer,
    csrf_of,
    login,
    login_attempt,
    session_cookie,
    token_for,
)


@pytest.fixture
def app(tmp_path, monkeypatch, frozen):
    return admin_app(tmp_path, monkeypatch)


def browser_from(app, address: str = "192.0.2.10"):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def failures(browser, name: str, count: int, frozen=None, step: float = 0.0) -> list:
    """`count` wrong passwords for `name`, `step` seconds apart; the responses."""
    answers = []
    for n in range(count):
        if frozen is not None and step:
            frozen.shift(timedelta(seconds=step))
        answers.append(login_attempt(browser, name, f"wrong-password-{n}"))
    return answers


def without_dates(response) -> tuple:
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() not in ("date", "expires"))
    return response.status_code, response.get_data(as_text=True), headers


def test_thirty_wrong_passwords_in_ten_seconds_lock_the_account_and_the_right_one_then_gets_429(app, frozen):
    browser = browser_from(app)
    answers = failures(browser, "anna", 30, frozen, step=1 / 3)
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 25
    retry_after = int(answers[-1].headers["Retry-After"])
    assert 0 < retry_after <= 60

    right = login_attempt(browser, "anna", PASSWORDS["anna"])
    assert right.status_code == 429 and "Retry-After" in right.headers  # a lock-out holds for everyone
    assert browser.get("/admin/").status_code == 302  # not logged in

    frozen.shift(timedelta(seconds=retry_after))
    assert login_attempt(browser, "anna", PASSWORDS["anna"]).status_code == 302


def test_each_further_lock_out_lasts_twice_as_long_and_a_login_forgets_them(app, frozen):
    browser = browser_from(app)
    locks = []
    for _ in range(3):
        failures(browser, "anna", 5)
        locked = login_attempt(browser, "anna", "still-wrong-password")
        assert locked.status_code == 429
        locks.append(int(locked.headers["Retry-After"]))
        frozen.shift(timedelta(seconds=locks[-1]))
    assert locks == [60, 120, 240]
    assert login_attempt(browser, "anna", PASSWORDS["anna"]).status_code == 302
    failures(browser, "anna", 5)
    assert int(login_attempt(browser, "anna", "wrong-again-and-again").headers["Retry-After"]) == 60


def test_unknown_names_get_the_same_answers_and_the_same_work_as_wrong_passwords(app, monkeypatch):
    checks = []
    real_check = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda *a: checks.append(1) or real_check(*a))
    browser = browser_from(app)
    token = csrf_of(browser.get("/admin/login"))

    def attempt(name):
        checks.clear()
        form = {"name": name, "password": "a-wrong-password", "csrf_token": token}
        return browser.post("/admin/login", data=form), len(checks)

    for n in range(6):  # five failures each, then the lock-out: all answers pairwise identical
        (known, known_checks), (unknown, unknown_checks) = attempt("anna"), attempt("nobody")
        assert without_dates(known) == without_dates(unknown), n
        assert known_checks == unknown_checks == (1 if n < 5 else 0)  # one slow hash each, none when locked
    assert known.status_code == 429


def test_many_names_from_one_address_lock_that_address_but_not_others(app):
    attacker = browser_from(app, "198.51.100.7")
    answers = [login_attempt(attacker, f"user{n}", "a-wrong-password") for n in range(21)]
    assert [a.status_code for a in answers] == [401] * 20 + [429]
    assert login_attempt(attacker, "anna", PASSWORDS["anna"]).status_code == 429
    login(app, "anna", address="198.51.100.8")  # another address logs in as usual


def test_failures_from_many_addresses_still_lock_the_account(app):
    for n in range(5):
        assert login_attempt(browser_from(app, f"203.0.113.{n}"), "anna", "wrong-one").status_code == 401
    assert login_attempt(browser_from(app, "203.0.113.99"), "anna", PASSWORDS["anna"]).status_code == 429


def test_every_process_sees_the_same_lock_out(app, tmp_path):
    other_process = create_app(Path(app.extensions["feedserver"].settings.path))
    failures(browser_from(app), "anna", 5)
    locked = login_attempt(browser_from(other_process), "anna", PASSWORDS["anna"])
    assert locked.status_code == 429


def test_failures_are_audited_with_the_address_and_never_the_password(app):
    browser = browser_from(app, "192.0.2.77")
    failures(browser, "anna", 1)
    failures(browser, "zz-unknown-name", 1)
    login_attempt(browser, "anna", "secret-guess-xyz")
    failures(browser, "anna", 3)  # the fifth failure starts a lock-out
    engine = app.extensions["feedserver"].store.engine
    with engine.connect() as connection:
        rows = connection.execute(select(desk_audit).order_by(desk_audit.c.id)).mappings().all()
    failed = [r for r in rows if r["action"] == "login-failed"]
    assert [r["actor"] for r in failed] == ["anna", "-", "anna", "anna", "anna", "anna"]
    assert all("192.0.2.77" in r["detail"] for r in failed)
    assert "zz-unknown-name" not in failed[1]["detail"]  # a name may be a password typed in the wrong field
    assert [r["actor"] for r in rows if r["action"] == "login-locked"] == ["anna"]
    database = Path(app.extensions["feedserver"].settings.storage_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert b"secret-guess-xyz" not in stored and b"wrong-password" not in stored
    assert b"zz-unknown-name" not in stored  # the throttle keeps only a hash of the name


def test_bad_api_tokens_from_one_address_get_429_and_a_lock_out(app, frozen):
    add_user(app, "paul", "author", "presse")
    good = token_for(app, "paul")
    client = app.test_client()
    guesser = {"REMOTE_ADDR": "198.51.100.9"}
    for junk in ("x", "fsd_short", "Basic-looking", "fsd_" + "!" * 43):  # not a token's shape: no guess
        assert client.get(f"{API}/me", headers=bearer(junk), environ_base=guesser).status_code == 401
    answers = [
        client.get(f"{API}/me", headers=bearer("fsd_" + f"{n:043d}"), environ_base=guesser) for n in range(21)
    ]
    assert [a.status_code for a in answers] == [401] * 20 + [429]
    assert answers[-1].mimetype == "application/problem+json"
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert client.get(f"{API}/me", headers=bearer(good), environ_base=guesser).status_code == 429
    assert client.get(f"{API}/me", headers=bearer(good)).status_code == 200  # from elsewhere: fine
    assert client.get(f"{API}/me").status_code == 401  # no token at all is no guess
    assert session_cookie(client) is None


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def test_parallel_guesses_cannot_slip_past_the_limit(request, tmp_path, monkeypatch, frozen, database):
    storage_url = request.getfixturevalue("migrated_pg_url") if database == "postgresql" else ""
    app = admin_app(tmp_path, monkeypatch, storage_url=storage_url)
    browsers = [browser_from(app, f"203.0.113.{n}") for n in range(12)]
    tokens = [csrf_of(b.get("/admin/login")) for b in browsers]
    start, answers = threading.Barrier(len(browsers)), []

    def guess(browser, token):
        form = {"name": "anna", "password": "a-parallel-guess", "csrf_token": token}
        start.wait()
        answers.append(browser.post("/admin/login", data=form).status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(browsers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [401] * 5 + [429] * 7  # each guess is counted before its password is checked
    assert login_attempt(browser_from(app), "anna", PASSWORDS["anna"]).status_code == 429
