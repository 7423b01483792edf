"""The one-origin rule of the inbox (push/ap_trust.py, step 5) on its own: keyId, actor and every object an
activity creates or deletes share scheme, host and port; the inbox's own tests are tests/test_ap_trust.py."""

from __future__ import annotations

import pytest

from feedserver.push.ap_trust import Untrusted, check_origins


@pytest.mark.parametrize(
    "key_id,activity,trusted",
    [
        ("https://a.example/u#k", {"type": "Follow", "actor": "https://A.example:443/u"}, True),
        ("https://a.example/u#k", {"type": "Follow", "actor": "http://a.example/u"}, False),
        ("https://a.example/u#k", {"type": "Follow", "actor": "https://a.example:8443/u"}, False),
        ("https://a.example/u#k", {"type": "Follow", "actor": {"id": "https://a.example/u"}}, True),
        ("https://a.example/u#k", {"type": "Follow"}, False),
        ("https://a.example/u#k", {"type": "Like", "actor": "https://a.example/u", "id": 7}, False),
        (
            "https://a.example/u#k",
            {"type": "Like", "actor": "https://a.example/u", "object": "https://b.example/n"},
            True,  # liking someone else's object creates nothing there
        ),
        (
            "https://a.example/u#k",
            {"type": "Undo", "actor": "https://a.example/u", "object": "https://b.example/f"},
            False,
        ),
        ("urn:key", {"type": "Follow", "actor": "urn:key"}, False),
    ],
)
def test_one_origin_for_key_actor_and_objects(key_id, activity, trusted):
    if trusted:
        check_origins(activity, key_id)
    else:
        with pytest.raises(Untrusted):
            check_origins(activity, key_id)
