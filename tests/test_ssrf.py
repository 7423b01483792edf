"""SSRF: loopback, private, link-local and metadata upstreams are refused at config and at connect time."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess

import pytest
from pytest_httpserver import HTTPServer

from feedserver.config import load
from feedserver.errors import ConfigError, UpstreamError
from feedserver.fetch import FetchSettings, Http
from feedserver.netguard import AddressPolicy, RefusedAddress
from tests.conftest import write_config

PUBLIC = "93.184.216.34"  # example.com: a public address the fake resolver hands out first


@pytest.fixture
def resolver(monkeypatch):
    """Fake DNS for *.test names: each name maps to a list of answers, one per lookup (the last repeats)."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if isinstance(host, str) and host in answers:
            lookups.append(host)
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers, lookups


def test_dns_rebinding_is_refused_at_connect(httpserver, resolver):
    answers, lookups = resolver
    answers["rebind.test"] = [PUBLIC, "127.0.0.1"]  # public for the early check, loopback for the connect
    httpserver.expect_request("/feed").respond_with_data("secret")
    with pytest.raises(RefusedAddress, match="127.0.0.1 is not a public address"):
        Http(FetchSettings()).get(f"http://rebind.test:{httpserver.port}/feed")
    assert lookups == ["rebind.test", "rebind.test"]  # the early check passed; the connect-time one refused
    assert len(httpserver.log) == 0  # nothing reached the loopback server


def test_a_name_resolving_to_loopback_is_refused_even_without_the_early_check(httpserver, monkeypatch):
    monkeypatch.setattr(Http, "check_host", lambda self, url: None)
    httpserver.expect_request("/feed").respond_with_data("secret")
    with pytest.raises(RefusedAddress, match="not a public address"):
        Http(FetchSettings()).get(f"http://localhost:{httpserver.port}/feed")
    assert len(httpserver.log) == 0


def test_allowed_network_connects_to_the_checked_address_keeping_the_host_header(httpserver, resolver):
    answers, _ = resolver
    answers["feeds.city.test"] = ["127.0.0.1"]
    httpserver.expect_request("/feed").respond_with_data("ok")
    client = Http(FetchSettings(allow_networks=("127.0.0.0/8",)))
    assert client.get(f"http://feeds.city.test:{httpserver.port}/feed").body == b"ok"
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"feeds.city.test:{httpserver.port}"


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS upstream on 127.0.0.1 with a certificate for feeds.city.test from a throwaway CA."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=feedserver test CA")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=feeds.city.test")  # fmt: skip
    (tmp_path / "ext.cnf").write_text("subjectAltName=DNS:feeds.city.test\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server, str(tmp_path / "ca.pem")
    server.clear()
    server.stop()


def test_https_keeps_sni_and_certificate_checks_by_host_name(tls_server, resolver):
    server, ca = tls_server
    answers, _ = resolver
    answers["feeds.city.test"] = ["127.0.0.1"]
    answers["other.city.test"] = ["127.0.0.1"]
    server.expect_request("/feed").respond_with_data("tls ok")
    client = Http(FetchSettings(allow_networks=("127.0.0.0/8",)))
    client.session.verify = ca
    assert client.get(f"https://feeds.city.test:{server.port}/feed").body == b"tls ok"
    # The same address under another name fails verification: the name, not the IP, is checked.
    with pytest.raises(UpstreamError, match="SSLError"):
        client.get(f"https://other.city.test:{server.port}/feed")


def test_proxies_are_refused_because_they_would_resolve_past_the_guard(httpserver, resolver):
    answers, _ = resolver
    answers["public.test"] = [PUBLIC]
    client = Http(FetchSettings(allow_networks=("127.0.0.0/8",)))
    client.session.proxies = {"http": f"http://127.0.0.1:{httpserver.port}"}
    with pytest.raises(UpstreamError, match="proxy"):
        client.get("http://public.test/feed")
    assert len(httpserver.log) == 0


@pytest.mark.parametrize(
    "networks,address,permitted",
    [
        ((), "169.254.169.254", False),
        (("169.254.0.0/16",), "169.254.169.254", False),  # metadata stays out of a broad allowance
        (("169.254.0.0/16",), "169.254.1.1", True),
        (("169.254.169.254/32",), "169.254.169.254", True),  # ... unless named exactly
        (("fd00::/8",), "fd00:ec2::254", False),
        ((), "100.100.100.200", False),
        ((), "::ffff:127.0.0.1", False),
        (("127.0.0.0/8",), "::ffff:127.0.0.1", True),  # IPv4-mapped IPv6 is judged as IPv4
        ((), "0.0.0.0", False),
        ((), "224.0.0.1", False),
        ((), "10.20.30.40", False),
        ((), PUBLIC, True),
    ],
)
def test_address_policy(networks, address, permitted):
    assert AddressPolicy.from_networks(networks).permits(ipaddress.ip_address(address)) is permitted


def embedding_forms(v4: str) -> dict[str, str]:
    """Every IPv6 spelling of an IPv4 address that a translator or tunnel would deliver to that IPv4 host."""
    value, public = int(ipaddress.IPv4Address(v4)), int(ipaddress.IPv4Address(PUBLIC))
    forms = {
        "nat64": 0x64FF9B << 96 | value,
        # RFC 6052 /48 layout: 16 bits, then bits 64-71 left zero, then the other 16 bits
        "nat64-local": 0x64FF9B0001 << 80 | (value >> 16) << 64 | (value & 0xFFFF) << 40,
        "6to4": 0x2002 << 112 | value << 80 | 1,
        "ipv4-compatible": value,
        "ipv4-mapped": 0xFFFF << 32 | value,
        "siit": 0xFFFF << 48 | value,
        # Teredo: a public server (bits 32-63) with this client, and this server with a public client
        "teredo-client": 0x20010000 << 96 | public << 64 | value ^ 0xFFFFFFFF,
        "teredo-server": 0x20010000 << 96 | value << 64 | public ^ 0xFFFFFFFF,
    }
    return {name: str(ipaddress.IPv6Address(bits)) for name, bits in forms.items()}


FORMS = list(embedding_forms(PUBLIC))
REFUSED_IPV4 = {"metadata": "169.254.169.254", "loopback": "127.0.0.1", "private": "10.1.2.3"}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("what", REFUSED_IPV4)
def test_ipv6_forms_of_a_refused_ipv4_address_are_refused(form, what):
    address = ipaddress.ip_address(embedding_forms(REFUSED_IPV4[what])[form])
    assert AddressPolicy().permits(address) is False, f"{address} embeds {REFUSED_IPV4[what]}"
    assert AddressPolicy().refusal(f"http://[{address}]/") is not None


def test_the_brief_s_reproduced_metadata_addresses_are_refused():
    for text in ("64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::a9fe:a9fe", "::ffff:0:a9fe:a9fe"):
        assert AddressPolicy().permits(ipaddress.ip_address(text)) is False, text
    assert embedding_forms("169.254.169.254")["nat64"] == "64:ff9b::a9fe:a9fe"


# Teredo stays refused: 2001::/23 is not global. A local-use NAT64 address is read with every RFC 6052 layout,
# and this /48 spelling reads as 0.0.0.0 under the /96 one: refused, as any ambiguous one is.
@pytest.mark.parametrize(
    ("form", "permitted"),
    [(form, not form.startswith("teredo") and form != "nat64-local") for form in FORMS],
)
def test_ipv6_forms_of_a_public_ipv4_address_are_judged_by_it(form, permitted):
    assert AddressPolicy().permits(ipaddress.ip_address(embedding_forms(PUBLIC)[form])) is permitted


def test_nat64_of_a_public_address_is_still_allowed():
    assert AddressPolicy().permits(ipaddress.ip_address("64:ff9b::5db8:d822"))  # 93.184.216.34
    assert AddressPolicy().permits(ipaddress.ip_address("64:ff9b::808:808"))  # 8.8.8.8


@pytest.mark.parametrize("form", FORMS)
def test_embedded_addresses_follow_the_ipv4_allowances(form):
    loopback = ipaddress.ip_address(embedding_forms("127.0.0.1")[form])
    metadata = ipaddress.ip_address(embedding_forms("169.254.169.254")[form])
    broad = AddressPolicy.from_networks(["127.0.0.0/8", "169.254.0.0/16", "2001::/32"])
    assert broad.permits(loopback) is (form != "nat64-local")  # its other layouts read 0.0.0.0 (see above)
    assert broad.permits(metadata) is False  # metadata only when named exactly, whatever the spelling
    exact = AddressPolicy.from_networks(["2001::/32", "169.254.169.254/32"])
    assert exact.permits(metadata) is (form != "nat64-local")


@pytest.mark.parametrize("answer", ["64:ff9b::a9fe:a9fe", "::ffff:0:7f00:1", "2002:a01:203::1"])
def test_a_name_resolving_to_an_ipv6_form_of_a_local_address_is_refused(resolver, answer):
    answers, lookups = resolver
    answers["nat64.test"] = [answer]
    with pytest.raises(RefusedAddress, match="is not a public address"):
        Http(FetchSettings()).get("http://nat64.test/latest/meta-data/")
    assert lookups == ["nat64.test"]  # refused on resolving, before any connection was tried


GOOD_FEED = """
[feeds.waste-a]
source = "ics"
title = "A"
url = "{url}"
"""


def _config_without_allowances(tmp_path, feeds: str, fetch: str = ""):
    path = write_config(tmp_path, feeds)
    text = path.read_text().replace('allow_networks = ["127.0.0.0/8"]\n', fetch)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.ics",
        "http://10.1.2.3/a.ics",
        "http://[::1]:8080/a.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://localhost:8000/a.ics",
        "http://api.localhost/a.ics",
        "http://[::ffff:127.0.0.1]/a.ics",
        "http://0.0.0.0/a.ics",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[::a9fe:a9fe]/",
        "http://[::ffff:0:a9fe:a9fe]/",
    ],
)
def test_config_refuses_local_upstreams_naming_file_and_key(tmp_path, url):
    path = _config_without_allowances(tmp_path, GOOD_FEED.format(url=url))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.file == str(path) and caught.value.key == "feeds.waste-a.url"
    assert "refusing upstream" in caught.value.problem and "allow" in caught.value.problem


def test_config_refuses_a_local_base_url_of_an_api_source(tmp_path):
    feeds = '[feeds.alerts]\nsource = "nina"\ntitle = "N"\nregion = "081160000000"\nbase_url = "http://192.168.1.5/api"\n'
    with pytest.raises(ConfigError) as caught:
        load(_config_without_allowances(tmp_path, feeds))
    assert caught.value.key == "feeds.alerts.base_url"


def test_allowed_networks_admit_loopback_but_never_metadata(tmp_path):
    allow = 'allow_networks = ["127.0.0.0/8", "169.254.0.0/16"]\n'
    settings = load(
        _config_without_allowances(tmp_path, GOOD_FEED.format(url="http://localhost:8000/a"), allow)
    )
    assert settings.feeds["waste-a"].options["url"] == "http://localhost:8000/a"
    metadata = GOOD_FEED.format(url="http://169.254.169.254/latest/")
    with pytest.raises(ConfigError, match="169.254.169.254 is not a public address"):
        load(_config_without_allowances(tmp_path, metadata, allow))


def test_public_names_pass_config_and_are_checked_when_connected(tmp_path):
    settings = load(_config_without_allowances(tmp_path, GOOD_FEED.format(url="https://example.org/a.ics")))
    assert settings.feeds["waste-a"].options["url"] == "https://example.org/a.ics"


def test_the_local_nat64_prefix_is_read_with_every_layout():
    """Inside 64:ff9b:1::/48 the prefix may be a /48 to a /96 (RFC 8215), and each RFC 6052 layout puts the
    IPv4 address elsewhere: under a /64 prefix this address is 169.254.169.254, whatever the /48 reading
    says."""
    assert not AddressPolicy().permits(ipaddress.ip_address("64:ff9b:1:808:a9:fea9:fe00:0"))
