"""CAP source: OASIS examples, DWD documents and bundle, index following, CAP semantics, hostile XML."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from feedserver.errors import ParseError
from feedserver.items import FeedInfo, item_id
from sources import cap

DWD_XML = "cap/2.49.0.0.276.0.DWD.PVW.1687511640000.0d1a4fb5-251a-46fc-aae3-a688d2021e71.MUL.xml"
DWD_ZIP = "cap/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip"
IPAWS_CANCEL = "cap/ipaws_nv_cancel_signed.cap12.xml"
CEST = timezone(timedelta(hours=2))
PDT = timezone(timedelta(hours=-7))
JUNE_2003 = datetime(2003, 6, 17, 12, 0, tzinfo=UTC)  # every OASIS example is still in force
CAP12 = b"urn:oasis:names:tc:emergency:cap:1.2"
DWD_NOON = datetime(2023, 6, 23, 12, 0, tzinfo=CEST)

CRAFTED = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>{sender}</sender><sent>{sent}</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info>
    <category>Met</category><event>{event}</event><urgency>Immediate</urgency>
    <severity>{severity}</severity><certainty>Likely</certainty><expires>2099-01-01T00:00:00+00:00</expires>
    <headline>{headline}</headline><description>Crafted for a test.</description>
    <area><areaDesc>{area}</areaDesc></area>
  </info>
</alert>"""

# the alert that the DWD Update in DWD_XML names in its references
DWD_ORIGINAL = CRAFTED.format(
    identifier="2.49.0.0.276.0.DWD.PVW.1687503060000.fc4f7fd9-80e7-4d71-969a-254be3e27e83.MUL",
    sender="opendata@dwd.de",
    sent="2023-06-23T08:51:00+02:00",
    event="STARKREGEN",
    severity="Minor",
    headline="Amtliche WARNUNG vor STARKREGEN (erste Fassung)",
    area="Stadt Havelsee",
)
# the alert that the IPAWS Cancel in IPAWS_CANCEL names in its references
NV_ORIGINAL = CRAFTED.format(
    identifier="AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd",
    sender="bbrundage@dps.state.nv.us",
    sent="2019-04-18T12:02:32-06:00",
    event="Boil Water Advisory",
    severity="Moderate",
    headline="Boil water advisory for Carson City",
    area="Carson City",
)


def atom_index(*hrefs: str) -> str:
    """An Atom feed whose entries link to CAP documents, as alert hubs publish them."""
    entries = "".join(
        f"<entry><id>urn:test:{n}</id><title>t</title><updated>2023-06-23T11:00:00Z</updated>"
        f'<link rel="alternate" type="application/cap+xml" href="{href}"/></entry>'
        for n, href in enumerate(hrefs)
    )
    return f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>i</title>{entries}</feed>'


def rss_index(*hrefs: str) -> str:
    """An RSS 2.0 feed whose items link to CAP documents."""
    items = "".join(f"<item><title>t</title><link>{href}</link></item>" for href in hrefs)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>i</title>{items}</channel></rss>'


def serve(httpserver, path: str, body: str | bytes, content_type: str = "application/xml") -> str:
    """Serve one body at path and return its absolute URL."""
    httpserver.expect_request(path).respond_with_data(body, content_type=content_type)
    return httpserver.url_for(path)


def items_at(source: cap.Source, http, when: datetime):
    """Fetch over HTTP and parse as if the fetch happened at `when`."""
    return source.parse(replace(source.fetch(http), fetched_at=when))


def feed(language: str) -> FeedInfo:
    return FeedInfo(id="alerts-test", language=language)


@pytest.mark.parametrize(
    ("name", "title", "category", "area", "published", "url"),
    [
        (
            "cap12_appendix_a1.xml",
            "Homeland Security Sets Code ORANGE",
            "severe",
            "U.S. nationwide and interests worldwide",
            datetime(2003, 4, 2, 14, 39, 1, tzinfo=timezone(timedelta(hours=-5))),
            "http://www.dhs.gov/dhspublic/display?theme=29",
        ),
        (
            "cap12_appendix_a2.xml",
            "SEVERE THUNDERSTORM WARNING",
            "severe",
            "EXTREME NORTH CENTRAL TUOLUMNE COUNTY IN CALIFORNIA, EXTREME NORTHEASTERN CALAVERAS COUNTY IN "
            "CALIFORNIA, SOUTHWESTERN ALPINE COUNTY IN CALIFORNIA",
            datetime(2003, 6, 17, 14, 57, tzinfo=PDT),
            None,
        ),
        (
            "cap12_appendix_a3.xml",
            "EQ 3.4 Imperial County CA",
            "minor",
            "1 mi. WSW of Brawley, CA; 11 mi. N of El Centro, CA; 30 mi. E of OCOTILLO (quarry); "
            "1 mi. N of the Imperial Fault",
            datetime(2003, 6, 11, 20, 56, tzinfo=PDT),
            "http://www.trinet.org/scsn/scsn.html",
        ),
        (
            "cap12_appendix_a4.xml",
            "Amber Alert in Los Angeles County",
            "severe",
            "Los Angeles County",
            datetime(2003, 6, 11, 22, 39, tzinfo=PDT),
            None,
        ),
    ],
)
def test_oasis_examples(httpserver, http, fixture_bytes, name, title, category, area, published, url):
    source = cap.Source(feed("en"), url=serve(httpserver, f"/{name}", fixture_bytes(f"cap/{name}")))
    [item] = items_at(source, http, JUNE_2003)
    assert (item.title, item.category, item.area, item.published, item.url) == (
        title,
        category,
        area,
        published,
        url,
    )
    assert item.published.tzinfo is not None


def test_oasis_details(httpserver, http, fixture_bytes):
    a2 = cap.Source(feed("en"), url=serve(httpserver, "/a2.xml", fixture_bytes("cap/cap12_appendix_a2.xml")))
    [storm] = items_at(a2, http, JUNE_2003)
    assert storm.ends == datetime(2003, 6, 17, 16, 0, tzinfo=PDT)
    assert storm.summary.endswith("STORM.\n\nTAKE COVER IN A SUBSTANTIAL SHELTER UNTIL THE STORM PASSES.")
    assert [g["value"] for g in storm.data["geocodes"]] == ["006109", "006009", "006003"]
    assert (storm.data["urgency"], storm.data["certainty"], storm.data["event"]) == (
        "Immediate",
        "Observed",
        "SEVERE THUNDERSTORM",
    )
    a3 = cap.Source(feed("en"), url=serve(httpserver, "/a3.xml", fixture_bytes("cap/cap12_appendix_a3.xml")))
    [quake] = items_at(a3, http, JUNE_2003)
    assert quake.data["msg_type"] == "Update"
    assert quake.data["references"] == ["trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00"]
    assert quake.data["supersedes"] == [item_id("alerts-test", "trinet@caltech.edu,TRI13970876.1")]


@pytest.mark.parametrize(
    ("language", "title", "area"),
    [
        ("en", "Amber Alert in Los Angeles County", "Los Angeles County"),
        ("es-MX", "Alerta Amber en el condado de Los Ángeles", "condado de Los Ángeles"),
        ("de", "Amber Alert in Los Angeles County", "Los Angeles County"),  # no German block: the first
    ],
)
def test_info_block_in_feed_language(httpserver, http, fixture_bytes, language, title, area):
    url = serve(httpserver, "/a4.xml", fixture_bytes("cap/cap12_appendix_a4.xml"))
    [item] = items_at(cap.Source(feed(language), url=url), http, JUNE_2003)
    assert (item.title, item.area) == (title, area)


@pytest.mark.parametrize(
    ("language", "title", "info_language", "instruction"),
    [
        ("de", "Amtliche WARNUNG vor STARKREGEN", "de-DE", "ACHTUNG! Hinweis auf mögliche Gefahren:"),
        ("en", "Official WARNING of HEAVY RAIN", "en", "NOTE: Be aware of the following possible dangers:"),
    ],
)
def test_dwd_document(httpserver, http, fixture_bytes, language, title, info_language, instruction):
    url = serve(httpserver, "/dwd.xml", fixture_bytes(DWD_XML))
    [item] = items_at(cap.Source(feed(language), url=url), http, DWD_NOON)
    assert (item.title, item.data["language"], item.category) == (title, info_language, "moderate")
    assert instruction in item.summary.split("\n\n")[-1]
    assert (item.starts, item.ends) == (
        datetime(2023, 6, 23, 11, 14, tzinfo=CEST),
        datetime(2023, 6, 23, 15, tzinfo=CEST),
    )
    assert item.area == "polygonal event area, Stadt Havelsee, Gemeinde Milower Land, Gemeinde Beetzsee"
    assert {"name": "WARNCELLID", "value": "812069270"} in item.data["geocodes"]
    assert (item.url, item.data["sender"]) == ("https://www.wettergefahren.de", "opendata@dwd.de")


@pytest.mark.parametrize(
    ("when", "titles"),
    [
        (
            DWD_NOON,
            [
                "Amtliche WARNUNG vor STARKREGEN",
                "Amtliche WARNUNG vor STARKREGEN",
                "Amtliche WARNUNG vor WINDBÖEN",
            ],
        ),
        # the 11:56 STARKREGEN update expires at 14:00, the 11:14 one at 15:00, the WINDBÖEN at 16:00
        (
            datetime(2023, 6, 23, 14, 30, tzinfo=CEST),
            ["Amtliche WARNUNG vor STARKREGEN", "Amtliche WARNUNG vor WINDBÖEN"],
        ),
        (datetime(2023, 6, 23, 16, 0, tzinfo=CEST), []),
    ],
)
def test_dwd_bundle_and_expiry(httpserver, http, fixture_bytes, when, titles):
    url = serve(httpserver, "/bundle.zip", fixture_bytes(DWD_ZIP), "application/zip")
    items = items_at(cap.Source(feed("de"), url=url), http, when)
    assert [i.title for i in items] == titles
    assert all(i.ends > when for i in items)


def test_bundle_items_are_stable_and_bounded(httpserver, http, fixture_bytes):
    url = serve(httpserver, "/bundle.zip", fixture_bytes(DWD_ZIP), "application/zip")
    first, second = (items_at(cap.Source(feed("de"), url=url), http, DWD_NOON) for _ in range(2))
    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == 3
    wind = next(i for i in first if i.category == "minor")
    assert (
        wind.key
        == "opendata@dwd.de,2.49.0.0.276.0.DWD.PVW.1687470000000.fe90b61b-3755-4efb-8eda-b161251da9f7.MUL"
    )
    assert len(items_at(cap.Source(feed("de"), url=url, max_alerts=1), http, DWD_NOON)) == 1


@pytest.mark.parametrize("index", [atom_index, rss_index])
def test_update_replaces_the_alert_it_references(httpserver, http, fixture_bytes, index):
    original = serve(httpserver, "/alerts/original.xml", DWD_ORIGINAL)
    update = serve(httpserver, "/alerts/update.xml", fixture_bytes(DWD_XML))
    [only_original] = items_at(
        cap.Source(feed("de"), url=serve(httpserver, "/one", index(original))), http, DWD_NOON
    )
    both = serve(httpserver, "/both", index("alerts/original.xml", "alerts/update.xml"))  # relative links
    [item] = items_at(cap.Source(feed("de"), url=both), http, DWD_NOON)
    assert item.key.endswith("0d1a4fb5-251a-46fc-aae3-a688d2021e71.MUL")
    assert item.data["supersedes"] == [only_original.id]
    assert item.updated == item.published == datetime(2023, 6, 23, 11, 14, tzinfo=CEST)
    assert update.endswith("/alerts/update.xml")


@pytest.mark.parametrize(
    ("language", "title", "summary"),
    [
        ("de", "Entwarnung: Boil water advisory for Carson City", "Die Warnung wurde aufgehoben."),
        ("en", "All clear: Boil water advisory for Carson City", "The alert has been cancelled."),
    ],
)
def test_cancel_withdraws_the_alert(httpserver, http, fixture_bytes, language, title, summary):
    original = serve(httpserver, "/nv/original.xml", NV_ORIGINAL)
    cancel = serve(httpserver, "/nv/cancel.xml", fixture_bytes(IPAWS_CANCEL))
    url = serve(httpserver, "/index.atom", atom_index(original, cancel), "application/atom+xml")
    [item] = items_at(cap.Source(feed(language), url=url), http, datetime(2019, 4, 20, tzinfo=UTC))
    assert item.key == "bbrundage@dps.state.nv.us,AS-NV-58d33e3a-1f9a-4909-9d59-34e90b33b3e8"
    assert (item.title, item.summary, item.area, item.category) == (title, summary, "Carson City", "moderate")
    assert item.data["msg_type"] == "Cancel"
    assert item.data["supersedes"] == [
        item_id("alerts-test", "bbrundage@dps.state.nv.us,AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd")
    ]


def test_cancel_alone_is_a_bare_all_clear(httpserver, http, fixture_bytes):
    url = serve(httpserver, "/cancel.xml", fixture_bytes(IPAWS_CANCEL))
    [item] = items_at(cap.Source(feed("de"), url=url), http, datetime(2019, 4, 20, tzinfo=UTC))
    assert (item.title, item.area, item.category) == ("Entwarnung", None, None)
    assert item.published == datetime(2019, 4, 19, 11, 46, 20, tzinfo=timezone(timedelta(hours=-6)))


@pytest.mark.parametrize("status", ["Test", "Exercise", "System", "Draft"])
def test_only_actual_alerts_become_items(httpserver, http, fixture_bytes, status):
    actual = fixture_bytes("cap/cap12_appendix_a1.xml")
    other = actual.replace(b"<status>Actual</status>", f"<status>{status}</status>".encode())
    index = atom_index(serve(httpserver, "/actual.xml", actual), serve(httpserver, "/other.xml", other))
    items = items_at(cap.Source(feed("en"), url=serve(httpserver, "/index", index)), http, JUNE_2003)
    assert len(items) == 1  # the same document delivered as Actual and as a non-actual message: one item


def test_non_actual_update_supersedes_nothing(httpserver, http, fixture_bytes):
    original = serve(httpserver, "/original.xml", DWD_ORIGINAL)
    drill = fixture_bytes(DWD_XML).replace(b"<status>Actual</status>", b"<status>Exercise</status>")
    index = atom_index(original, serve(httpserver, "/drill.xml", drill))
    [item] = items_at(cap.Source(feed("de"), url=serve(httpserver, "/index", index)), http, DWD_NOON)
    assert item.title == "Amtliche WARNUNG vor STARKREGEN (erste Fassung)"


def test_redelivered_alert_is_one_item(httpserver, http, fixture_bytes):
    a1 = fixture_bytes("cap/cap12_appendix_a1.xml")
    index = atom_index(serve(httpserver, "/a.xml", a1), serve(httpserver, "/copy-of-a.xml", a1))
    [item] = items_at(cap.Source(feed("en"), url=serve(httpserver, "/index", index)), http, JUNE_2003)
    assert item.id == item_id("alerts-test", "hsas@dhs.gov,43b080713727")


def test_alert_embedded_in_atom_entry(httpserver, http, fixture_bytes):
    alert = fixture_bytes("cap/cap12_appendix_a4.xml").decode().split("?>", 1)[1]
    index = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>i</title>'
        f'<entry><id>urn:x</id><title>t</title><content type="text/xml">{alert}</content></entry></feed>'
    )
    [item] = items_at(cap.Source(feed("en"), url=serve(httpserver, "/embedded", index)), http, JUNE_2003)
    assert item.title == "Amber Alert in Los Angeles County"


def test_index_is_bounded_by_max_alerts(httpserver, http, fixture_bytes):
    links = [serve(httpserver, f"/{n}.xml", fixture_bytes(f"cap/cap12_appendix_a{n}.xml")) for n in (1, 4)]
    source = cap.Source(feed("en"), url=serve(httpserver, "/index", atom_index(*links)), max_alerts=1)
    [item] = items_at(source, http, JUNE_2003)
    assert item.title == "Homeland Security Sets Code ORANGE"
    assert [request.path for request, _ in httpserver.log] == ["/index", "/1.xml"]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(XXE, id="xxe"),
        pytest.param(LAUGHS, id="billion-laughs"),
        b"<!DOCTYPE html><html><body>Wartungsarbeiten</body></html>",
        b'{"alerts": []}',
        pytest.param(b'<alert xmlns="%s"><identifier>x</identifier></alert>' % CAP12, id="no-sender"),
        pytest.param(
            b"<alert xmlns='%s'><identifier>x</identifier><sender>s</sender><sent>2023-06-23T11:14:00</sent>"
            b"<status>Actual</status><msgType>Alert</msgType></alert>" % CAP12,
            id="naive-sent",
        ),
        b"PK\x03\x04 not really a zip",
    ],
)
def test_wrong_or_hostile_documents_raise(httpserver, http, body):
    source = cap.Source(feed("en"), url=serve(httpserver, "/doc", body))
    with pytest.raises(ParseError):
        items_at(source, http, JUNE_2003)


def test_hostile_linked_document_raises(httpserver, http):
    source = cap.Source(
        feed("en"), url=serve(httpserver, "/index", atom_index(serve(httpserver, "/x.xml", XXE)))
    )
    with pytest.raises(ParseError, match="document type"):
        items_at(source, http, JUNE_2003)


def test_index_may_not_link_to_local_files(httpserver, http):
    source = cap.Source(feed("en"), url=serve(httpserver, "/index", atom_index("file:///etc/passwd")))
    with pytest.raises(ParseError, match="unsupported URL"):
        source.fetch(http)


def test_oversized_bundle_member_raises(httpserver, http, fixture_bytes, monkeypatch):
    monkeypatch.setattr(cap, "MAX_MEMBER_BYTES", 100_000)  # the WINDBÖEN file unpacks to 407 KB
    url = serve(httpserver, "/bundle.zip", fixture_bytes(DWD_ZIP), "application/zip")
    with pytest.raises(ParseError, match="larger than"):
        items_at(cap.Source(feed("de"), url=url), http, DWD_NOON)


def test_options():
    assert cap.OPTIONS().load({"url": "https://example.org/cap.atom"}) == {
        "url": "https://example.org/cap.atom",
        "max_alerts": 200,
    }
    with pytest.raises(ValidationError):
        cap.OPTIONS().load({"url": "ftp://example.org/cap.xml"})
    assert (cap.KIND, cap.FILTERS) == ("alerts", ("category", "area"))
