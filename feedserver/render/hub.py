"""WebSub discovery inside feed documents: <link rel="hub"> in Atom, <atom:link rel="hub"> in RSS."""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"


class HubLink(BaseExtension):
    """A feedgen extension adding the hub link that feedgen's RSS writer leaves out (it keeps only self)."""

    hub_url: str = ""

    def extend_ns(self):
        return {"atom": ATOM_NS}

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        self_link = channel.find(f"{{{ATOM_NS}}}link")
        link = etree.Element(f"{{{ATOM_NS}}}link", href=self.hub_url, rel="hub")
        # Beside the self link, so both discovery links sit together at the top of the channel.
        if self_link is not None:
            self_link.addnext(link)
        else:
            channel.append(link)
        return rss_feed

    def extend_atom(self, atom_feed):
        return atom_feed  # Atom takes rel="hub" through fg.link


def add_hub_link(fg: FeedGenerator, hub_url: str) -> None:
    """Advertise the WebSub hub in both Atom and RSS output of this generator."""
    fg.link(href=hub_url, rel="hub")
    fg.register_extension("websub", HubLink, atom=False, rss=True)
    fg.websub.hub_url = hub_url
