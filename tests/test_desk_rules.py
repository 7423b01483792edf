"""The four-eyes rules on their own: pure functions over users, versions and announcements."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from feedserver.desk.rules import (
    ALL_FEEDS,
    Announcement,
    Conflict,
    Forbidden,
    User,
    Version,
    check_approval,
    check_edit,
    check_withdrawal,
    content_errors,
    crisis_feeds,
    may_act_in,
    may_approve,
    revised,
    targets_feed,
    visible,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ANNA = User(1, "anna", "approver", frozenset({"presse"}))
BERND = User(2, "bernd", "approver", frozenset({"presse"}))
PAUL = User(3, "paul", "author", frozenset({"presse"}))
DORA = User(4, "dora", "approver", frozenset({"bauamt"}))
ROOT = User(5, "root", "admin")


def version(number=1, author=PAUL, approver=None, **fields) -> Version:
    values = {
        "title": "Stadtfest",
        "text": "",
        "link": None,
        "starts": None,
        "ends": None,
        "publish_at": NOW,
        "expires": None,
        "crisis": False,
        "targets": (),
    } | fields
    return Version(
        number=number,
        author_id=author.id,
        author=author.name,
        created_at=NOW,
        approver_id=approver.id if approver else None,
        approver=approver.name if approver else None,
        approved_at=NOW if approver else None,
        **values,
    )


def announcement(*versions: Version, withdrawn: bool = False) -> Announcement:
    return Announcement(
        id=7,
        feed_id="presse",
        created_by="paul",
        created_at=NOW,
        versions=versions or (version(),),
        withdrawn_at=NOW if withdrawn else None,
    )


def test_an_approver_of_the_office_approves_someone_elses_current_version():
    check_approval(ANNA, announcement(version(author=PAUL)), "presse", 1)
    check_approval(ROOT, announcement(version(author=PAUL)), "presse", 1)  # admins belong everywhere


@pytest.mark.parametrize(
    "user,target,number,error,words",
    [
        (PAUL, announcement(version(author=ANNA)), 1, Forbidden, "approver"),
        (ANNA, announcement(version(author=ANNA)), 1, Forbidden, "other than its author"),
        (DORA, announcement(version(author=PAUL)), 1, Forbidden, "own office"),
        (ANNA, announcement(version(1, approver=BERND), version(2)), 1, Conflict, "not the current"),
        (ANNA, announcement(version(1)), 2, Conflict, "not the current"),
        (ANNA, announcement(version(1, approver=BERND)), 1, Conflict, "already approved"),
        (ANNA, announcement(version(1), withdrawn=True), 1, Conflict, "withdrawn"),
    ],
    ids=["author-role", "self", "other-office", "stale", "future", "twice", "withdrawn"],
)
def test_approvals_that_break_a_rule_are_refused(user, target, number, error, words):
    with pytest.raises(error) as refused:
        check_approval(user, target, "presse", number)
    assert words in refused.value.detail


def test_an_approver_may_approve_a_version_edited_by_someone_else_even_if_they_wrote_the_first():
    edited = announcement(version(1, author=ANNA, approver=BERND), version(2, author=BERND))
    check_approval(ANNA, edited, "presse", 2)
    with pytest.raises(Forbidden):
        check_approval(BERND, edited, "presse", 2)


@pytest.mark.parametrize("crisis", [False, True], ids=["announcement", "crisis"])
def test_an_approver_cannot_approve_their_own_text_touched_up_by_an_author(crisis):
    fields = {"crisis": True, "targets": (ALL_FEEDS,)} if crisis else {}
    co_edited = announcement(version(1, author=ANNA, **fields), version(2, author=PAUL, **fields))
    assert co_edited.contributors(2) == {ANNA.id: "anna", PAUL.id: "paul"}
    with pytest.raises(Forbidden) as refused:
        check_approval(ANNA, co_edited, "presse", 2)
    assert "you wrote" in refused.value.detail
    assert not may_approve(ANNA, co_edited, "presse")
    check_approval(BERND, co_edited, "presse", 2)
    assert may_approve(BERND, co_edited, "presse")


def test_contributors_are_the_writers_since_the_last_approval():
    history = announcement(
        version(1, author=ANNA, approver=BERND),
        version(2, author=BERND),
        version(3, author=PAUL, approver=ANNA),
        version(4, author=PAUL),
        version(5, author=ROOT),
    )
    assert history.contributors(5) == {ROOT.id: "root", PAUL.id: "paul"}
    assert history.contributors(3) == {PAUL.id: "paul", BERND.id: "bernd"}
    assert history.contributors(1) == {ANNA.id: "anna"}
    check_approval(ANNA, history, "presse", 5)  # anna's version 1 was approved long ago
    with pytest.raises(Forbidden):
        check_approval(ROOT, history, "presse", 5)


def test_status_and_published_version_follow_the_versions():
    pending = announcement(version(1))
    assert (pending.status, pending.published) == ("pending", None)
    approved = announcement(version(1, approver=ANNA))
    assert (approved.status, approved.published.number) == ("approved", 1)
    edited = announcement(version(1, approver=ANNA), version(2))
    assert (edited.status, edited.published.number) == ("pending", 1)  # the last approved stays out
    withdrawn = announcement(version(1, approver=ANNA), withdrawn=True)
    assert (withdrawn.status, withdrawn.published) == ("withdrawn", None)


def test_editing_and_withdrawing_need_the_office_and_an_announcement_that_is_not_withdrawn():
    check_edit(PAUL, announcement(), "presse")
    check_withdrawal(PAUL, announcement(), "presse")
    with pytest.raises(Forbidden):
        check_edit(DORA, announcement(), "presse")
    with pytest.raises(Forbidden):
        check_withdrawal(PAUL, announcement(), "bauamt")
    with pytest.raises(Conflict):
        check_edit(PAUL, announcement(withdrawn=True), "presse")
    with pytest.raises(Conflict):
        check_withdrawal(PAUL, announcement(withdrawn=True), "presse")


def test_offices_admins_and_disabled_users():
    assert may_act_in(PAUL, "presse") and not may_act_in(PAUL, "bauamt")
    assert may_act_in(ROOT, "anything") and may_act_in(ROOT, None)
    assert not may_act_in(PAUL, None)  # a feed that is gone from the config
    assert not may_act_in(replace(PAUL, active=False), "presse")


def test_an_edit_that_changes_nothing_adds_no_version():
    latest = version(1, title="Stadtfest", targets=())
    assert revised(latest, {"title": "Stadtfest"}) is None
    assert revised(latest, {"targets": []}) is None
    changed = revised(latest, {"title": "Stadtfest abgesagt", "feed": "ignored"})
    assert changed["title"] == "Stadtfest abgesagt"
    assert "feed" not in changed and changed["publish_at"] == NOW


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"ends": NOW}, "ends"),
        ({"starts": NOW, "ends": NOW - timedelta(minutes=1)}, "ends"),
        ({"expires": NOW}, "expires"),
        ({"crisis": True}, "targets"),
        ({"targets": ("presse",)}, "targets"),
        ({"crisis": True, "targets": (ALL_FEEDS, "presse")}, "targets"),
        ({"crisis": True, "targets": ("elsewhere",)}, "targets"),
    ],
)
def test_rules_across_fields(fields, field):
    content = version().content() | fields
    assert field in content_errors(content, {"presse", "bauamt"})


def test_valid_content_has_no_errors():
    content = version(
        crisis=True, targets=("bauamt",), starts=NOW, ends=NOW, expires=NOW + timedelta(1)
    ).content()
    assert content_errors(content, {"presse", "bauamt"}) == {}


def test_visibility_window_and_crisis_targets():
    scheduled = version(publish_at=NOW + timedelta(hours=1), expires=NOW + timedelta(hours=2))
    assert not visible(scheduled, NOW)
    assert visible(scheduled, NOW + timedelta(hours=1))
    assert not visible(scheduled, NOW + timedelta(hours=2))  # gone at the instant it expires
    everywhere = version(crisis=True, targets=(ALL_FEEDS,))
    assert targets_feed(everywhere, "waste-x") and not targets_feed(version(targets=("a",)), "a")
    moved = announcement(version(1, crisis=True, targets=("a",)), version(2, crisis=True, targets=("b",)))
    assert crisis_feeds(moved, ["a", "b", "c"]) == {"a", "b"}  # both must be re-rendered
