"""Open licences a feed may carry, with their names and canonical URLs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    """An open licence: SPDX-like id, human name and canonical URL."""

    id: str
    name: str
    url: str


LICENCES = {
    lic.id: lic
    for lic in (
        Licence(
            "dl-de/by-2-0",
            "Datenlizenz Deutschland – Namensnennung – Version 2.0",
            "https://www.govdata.de/dl-de/by-2-0",
        ),
        Licence(
            "dl-de/zero-2-0",
            "Datenlizenz Deutschland – Zero – Version 2.0",
            "https://www.govdata.de/dl-de/zero-2-0",
        ),
        Licence(
            "cc-by-4.0", "Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"
        ),
        Licence(
            "cc-by-sa-4.0",
            "Creative Commons Attribution-ShareAlike 4.0",
            "https://creativecommons.org/licenses/by-sa/4.0/",
        ),
        Licence(
            "cc0-1.0",
            "CC0 1.0 Public Domain Dedication",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        Licence("odbl-1.0", "Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
        Licence(
            "geonutzv",
            "GeoNutzV (Verordnung zur Festlegung der Nutzungsbestimmungen für Geodaten des Bundes)",
            "https://www.gesetze-im-internet.de/geonutzv/",
        ),
    )
}
