"""Civil-protection alerts from any CAP 1.2 (or 1.1) source: one alert, an Atom/RSS index, or a ZIP bundle.

`url` may point at a single CAP document, at an Atom or RSS feed whose entries link to (or embed) CAP
documents (the linked ones are fetched, at most `max_alerts`), or at a ZIP bundle of CAP files as the DWD
publishes on opendata.dwd.de. XML is parsed with defusedxml: a document type declaration (the way in for XXE
and entity bombs) is refused outright. CAP semantics (status, Update, Cancel, expiry, language) live in
`sources._cap_common`.
"""

from __future__ import annotations

import io
import logging
import zipfile
import zlib
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from marshmallow import Schema, fields, validate

from feedserver.errors import ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Url
from feedserver.items import FeedInfo, Item
from sources._cap_common import SEVERITIES, current_items

KIND = "alerts"
MASS_DELETION_GUARD = False  # alerts end and are cancelled all at once (see feedserver/guard.py)
TITLE = "CAP alerts (Common Alerting Protocol)"
FILTERS = ("category", "area")
VOCABULARY = {"category": SEVERITIES}  # valid even while no alert is active

CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
# CAP elements that may repeat; they become lists, as in CAP-JSON
REPEATED = frozenset(
    (
        "code",
        "info",
        "category",
        "responseType",
        "eventCode",
        "parameter",
        "resource",
        "area",
        "polygon",
        "circle",
        "geocode",
    )
)
INDEX_ACCEPT = (
    "application/cap+xml, application/atom+xml, application/rss+xml, application/xml, "
    "application/zip;q=0.9, */*;q=0.5"
)
ALERT_ACCEPT = "application/cap+xml, application/xml;q=0.9, */*;q=0.5"
ZIP_MAGIC = b"PK\x03\x04"
MAX_MEMBER_BYTES = 16 * 1024 * 1024  # the largest DWD file seen is 0.4 MB; more is a bomb, not a warning
MAX_BUNDLE_BYTES = 128 * 1024 * 1024

log = logging.getLogger(__name__)


class Options(Schema):
    url = Url(required=True)
    max_alerts = fields.Integer(load_default=200, validate=validate.Range(min=1, max=2000))


OPTIONS = Options


class Source:
    def __init__(self, feed: FeedInfo, url: str, max_alerts: int = 200):
        self.feed = feed
        self.url = url
        self.max_alerts = max_alerts

    def fetch(self, http: Http) -> Payload:
        """Download the document; for an index also every linked CAP document (at most max_alerts).

        Every request is conditional; a 304 reuses the remembered body. Even when nothing changed the alerts
        are parsed again, because which of them are in force depends on the time of the fetch (expiry).
        """
        payload = http.get(self.url, headers={"Accept": INDEX_ACCEPT}, reuse=True)
        if payload.body.startswith(ZIP_MAGIC):
            return payload
        links = [s for s in alert_sources(parse_xml(payload.body), payload.url) if isinstance(s, str)]
        linked = {
            url: http.get(url, headers={"Accept": ALERT_ACCEPT}, reuse=True) for url in self._bounded(links)
        }
        return replace(payload, related=linked)

    def parse(self, payload: Payload) -> list[Item]:
        """The alerts in force at fetch time; ParseError for anything not CAP, a CAP index or a CAP bundle."""
        if payload.body.startswith(ZIP_MAGIC):
            roots = [parse_xml(body) for body in zip_documents(payload.body, self.max_alerts)]
        else:
            roots = [
                self._resolve(s, payload)
                for s in self._bounded(alert_sources(parse_xml(payload.body), payload.url))
            ]
        return current_items(self.feed, [alert_document(root) for root in roots], payload.fetched_at)

    def _bounded(self, sources: list) -> list:
        if len(sources) > self.max_alerts:
            log.warning(
                "%s lists %d alerts; only the first %d are read", self.url, len(sources), self.max_alerts
            )
        return sources[: self.max_alerts]

    def _resolve(self, source: Element | str, payload: Payload) -> Element:
        if not isinstance(source, str):
            return source
        linked = payload.related.get(source)
        if linked is None:
            raise ParseError(f"linked CAP document {source} was not fetched")
        return parse_xml(linked.body)


def parse_xml(body: bytes) -> Element:
    """Parse XML without DTDs, entities or external references; ParseError for anything else."""
    try:
        return safe_xml.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(f"refusing XML with a document type declaration or entities: {exc!r}") from exc
    except XmlSyntaxError as exc:
        raise ParseError(f"not well-formed XML: {exc}") from exc


def is_alert(element: Element) -> bool:
    """True for a CAP <alert> element of a supported version."""
    namespace, name = split_tag(element.tag)
    return name == "alert" and namespace in CAP_NAMESPACES


def split_tag(tag: Any) -> tuple[str, str]:
    """'{namespace}name' -> (namespace, name); comments and processing instructions give ('', '')."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def alert_sources(root: Element, base_url: str) -> list[Element | str]:
    """The CAP alerts a document stands for: itself, or per index entry an embedded alert or a link."""
    if is_alert(root):
        return [root]
    if root.tag == f"{ATOM}feed":
        entries, pick_link = root.findall(f"{ATOM}entry"), atom_link
    elif root.tag == "rss":
        entries, pick_link = root.findall("channel/item"), rss_link
    elif root.tag == RDF:
        entries, pick_link = root.findall(f"{RSS1}item"), rss_link
    else:
        raise ParseError(f"expected a CAP alert or an Atom/RSS index, found <{split_tag(root.tag)[1]}>")
    sources: list[Element | str] = []
    for entry in entries:
        embedded = next((e for e in entry.iter() if is_alert(e)), None)
        link = None if embedded is not None else pick_link(entry)
        source = embedded if embedded is not None else (absolute_link(link, base_url) if link else None)
        if source is not None and source not in sources:
            sources.append(source)
    return sources


def atom_link(entry: Element) -> str | None:
    """The CAP link of an Atom entry: a link typed as CAP, else the alternate link, else an http(s) id."""
    links = entry.findall(f"{ATOM}link")
    for link in links:
        if "cap" in (link.get("type") or "").lower() and link.get("href"):
            return link.get("href")
    for link in links:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
    return entry_id if urlsplit(entry_id).scheme in ("http", "https") else None


def rss_link(item: Element) -> str | None:
    """The CAP link of an RSS 2.0 or 1.0 item: a CAP enclosure, else the item link."""
    for enclosure in item.findall("enclosure"):
        if "cap" in (enclosure.get("type") or "").lower() and enclosure.get("url"):
            return enclosure.get("url")
    link = item.findtext("link") or item.findtext(f"{RSS1}link") or ""
    return link.strip() or None


def absolute_link(link: str, base_url: str) -> str:
    """Resolve an index link: http(s) only (file: only from a file: index), so no remote index reads files."""
    url = urljoin(base_url, link.strip())
    allowed = ("http", "https", "file") if urlsplit(base_url).scheme == "file" else ("http", "https")
    if urlsplit(url).scheme.lower() not in allowed:
        raise ParseError(f"index links to an unsupported URL: {url[:200]}")
    return url


def alert_document(root: Element) -> dict[str, Any]:
    """A CAP <alert> element as a CAP-JSON shaped dict; ParseError when it is not one."""
    if not is_alert(root):
        raise ParseError(f"expected a CAP <alert>, found <{split_tag(root.tag)[1]}>")
    return element_fields(root)


def element_fields(element: Element) -> dict[str, Any]:
    """CAP child elements as a dict, repeated ones as lists; foreign elements (ds:Signature) are skipped."""
    found: dict[str, Any] = {}
    for child in element:
        namespace, name = split_tag(child.tag)
        if namespace not in CAP_NAMESPACES:
            continue
        value = element_fields(child) if len(child) else (child.text or "")
        if name in REPEATED:
            found.setdefault(name, []).append(value)
        else:
            found[name] = value
    return found


def zip_documents(body: bytes, max_members: int) -> list[bytes]:
    """The XML members of a ZIP bundle, bounded in number and in uncompressed size."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir() and m.filename.lower().endswith(".xml")]
            if len(members) > max_members:
                log.warning(
                    "CAP bundle holds %d files; only the first %d are read", len(members), max_members
                )
            documents, total = [], 0
            for member in members[:max_members]:
                if member.file_size > MAX_MEMBER_BYTES:
                    raise ParseError(
                        f"bundle member {member.filename} is larger than {MAX_MEMBER_BYTES} bytes"
                    )
                with bundle.open(member) as stream:
                    data = stream.read(MAX_MEMBER_BYTES + 1)  # the declared size may lie
                total += len(data)
                if len(data) > MAX_MEMBER_BYTES or total > MAX_BUNDLE_BYTES:
                    raise ParseError("CAP bundle unpacks to more than the allowed size")
                documents.append(data)
            return documents
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
        raise ParseError(f"unreadable ZIP bundle: {exc}") from exc
