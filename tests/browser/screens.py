"""The screens the browser tests open a page on besides the laptop's: a projector and a phone.

Projector: a 1280x720 window at 150 % browser zoom is an 853x480 CSS-pixel viewport drawn at a device scale
factor of 1.5 (as docs/screenshots.py emulates it). Phone: 390x844 with a phone's User-Agent, which the app
reads (ui/screen.py)."""

from __future__ import annotations

PROJECTOR = {"viewport": {"width": 853, "height": 480}, "device_scale_factor": 1.5}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
}


def boxes_overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and (a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
    )
