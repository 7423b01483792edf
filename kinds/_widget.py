"""What the kinds' widgets share: template folders, script parts, the banners of alerts in force."""

from __future__ import annotations

import json
from pathlib import Path

from feedserver.i18n import N_, in_languages

HERE = Path(__file__).parent
SHARED_TEMPLATES = str(HERE / "_templates")  # widgets/_alert_banners.html

# Words of the banners of alerts in force (the alerts view, and the transit board above its table).
ALERT_TEXTS = {"alerts": N_("Warnings"), "no_alerts": N_("No warnings at the moment."), "until": N_("until")}


def templates(package_file: str) -> str:
    """The templates folder next to a kind package's __init__.py."""
    return str(Path(package_file).parent / "templates")


def script_part(path: str | Path, **words) -> str:
    """A kind's part of widget.js, with each `/*NAME*/null` replaced by the JSON of its words."""
    text = Path(path).read_text(encoding="utf-8")
    for name, value in words.items():
        text = text.replace(f"/*{name.upper()}*/null", json.dumps(value, ensure_ascii=False))
    return text


ALERT_SCRIPT = script_part(HERE / "_alerts.js")


def widget_parts(package_file: str, texts: dict, alert_banners: bool = False, **words) -> dict:
    """A kind's widget_texts, template_folders and widget_script from its package: templates/ and widget.js
    next to `package_file` (its `words` put in, in every language), with the banners of alerts in force
    when `alert_banners`."""
    in_each = {name: in_languages(messages) for name, messages in words.items()}
    own_script = script_part(Path(package_file).parent / "widget.js", **in_each)
    if not alert_banners:
        return {
            "widget_texts": texts,
            "template_folders": (templates(package_file),),
            "widget_script": (own_script,),
        }
    return {
        "widget_texts": dict(texts) | ALERT_TEXTS,
        "template_folders": (templates(package_file), SHARED_TEMPLATES),
        "widget_script": (ALERT_SCRIPT, own_script),
    }
