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


# a figure's texts and panels, in CSS pixels: its axis titles, its annotations (subplot titles among them), its
# legend's entries and their symbols, every tick label with the panel it belongs to, and each panel's plot area. Argument: the
# .js-plotly-plot element.
FIGURE_TEXTS_JS = """gd => {
    const box = e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; };
    const texts = sel => [...gd.querySelectorAll(sel)].filter(t => t.textContent.trim())
        .map(t => ({text: t.textContent, ...box(t)}));
    const titles = [...gd.querySelectorAll('.infolayer text[class$="title"]')].filter(t => t.textContent.trim())
        .map(t => ({text: t.textContent, axis: t.getAttribute('class').replace(/title$/, ''), ...box(t)}));
    const notes = texts('.annotation-text');
    const legend = [...gd.querySelectorAll('.legend .traces')].map(t => ({text: t.textContent, ...box(t)}));
    const symbols = [...gd.querySelectorAll('.legend .traces')].flatMap(t =>
        [...t.querySelectorAll('.legendpoints path, .legendlines path')].map(p => ({text: t.textContent, ...box(p)}))
            .filter(b => b.width > 0));
    const ticks = [...gd.querySelectorAll('.cartesianlayer .subplot')].flatMap(s =>
        [...s.querySelectorAll('[class$="tick"] text')].filter(t => t.textContent.trim())
            .map(t => ({text: t.textContent, panel: s.classList[1], ...box(t)})));
    const areas = Object.fromEntries([...gd.querySelectorAll('.draglayer > g')].filter(g => g.querySelector('.nsewdrag'))
        .map(g => [g.classList[0], box(g.querySelector('.nsewdrag'))]));
    return {titles, notes, legend, symbols, ticks, areas, figure: box(gd)};
}"""


def _axes_of(panel: str) -> tuple[str, str]:
    """The axes of a panel ("x2y2": ("x2", "y2"))."""
    x, y = panel.split("y", 1)
    return x, "y" + y


def text_collisions(found: dict) -> list:
    """What :data:`FIGURE_TEXTS_JS` found wrong: an axis title or annotation cut at the figure's left or right
    edge, two of them on top of each other, an axis title or a tick label on another panel's plot area, a legend
    entry cut or on a title or a plot, two entries' symbols on each other."""
    figure, problems = found["figure"], []
    words = found["titles"] + found["notes"]
    for i, a in enumerate(words):
        if a["x"] < figure["x"] - 1 or a["x"] + a["width"] > figure["x"] + figure["width"] + 1:
            problems.append(("cut", a["text"]))
        problems += [("overlap", a["text"], b["text"]) for b in words[i + 1 :] if boxes_overlap(a, b)]
    for title in found["titles"]:  # an axis's title on a panel of other axes (on its own panel: plotly's "standoff")
        problems += [
            ("title on a panel", title["text"], panel)
            for panel, area in found["areas"].items()
            if title["axis"] not in _axes_of(panel) and boxes_overlap(title, area)
        ]
    for entry in found["legend"]:  # above the plot, clear of its titles, whole
        if entry["x"] + entry["width"] > figure["x"] + figure["width"] + 1:
            problems.append(("legend cut", entry["text"]))
        problems += [("legend on text", entry["text"], b["text"]) for b in words if boxes_overlap(entry, b)]
        problems += [
            ("legend on a panel", entry["text"], p) for p, a in found["areas"].items() if boxes_overlap(entry, a)
        ]
    symbols = found.get("symbols", [])
    problems += [  # the Lab's 16-17 px legend symbols touched those of the rows above and below
        ("legend symbols touch", a["text"], b["text"])
        for i, a in enumerate(symbols)
        for b in symbols[i + 1 :]
        if a["text"] != b["text"] and boxes_overlap(a, b)
    ]
    for label in found["ticks"]:
        problems += [
            ("tick on a panel", label["text"], panel)
            for panel, area in found["areas"].items()
            if panel != label["panel"] and boxes_overlap(label, area)
        ]
    return problems
