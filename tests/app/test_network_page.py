"""The Networks page in-process (AppTest): the default race, links, adding optimizers, divergence, hostile links."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.app.apptest import ok, open_page, plotly_array, query_of
from tests.torch_reference import SKIP_REASON

torch = pytest.importorskip("torch", reason=f"the page trains with torch: {SKIP_REASON}")

PAGE = "pages/network.py"
SMALL = {"n": "60", "width": "8", "steps": "40", "grid": "11"}


def chart_spec(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_the_default_race_draws_three_paths_on_one_landscape():
    at = open_page(PAGE)
    ok(at)
    spec = chart_spec(at)
    meta = spec["layout"]["meta"]
    assert meta["kind"] == "network" and meta["racers"] == 3
    assert meta["frame_steps"][0] == 0 and meta["frame_steps"][-1] == 200 and len(spec["frames"]) == meta["frames"]
    assert spec["layout"]["images"] and spec["layout"]["sliders"]
    # frames update only the animated traces, with redraw off, so the picture under them stays
    assert all(frame["traces"] == meta["animated"] for frame in spec["frames"])
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["redraw"] is False
    table = at.dataframe[0].value
    assert list(table["optimizer"]) == ["1. SGD η=0.1", "2. SGD η=0.1, μ=0.9", "3. Adam η=0.01"]
    # the answers to "how faithful" first (on a phone the table scrolls sideways), each explained on hover
    assert list(table.columns[:4]) == ["optimizer", "gap", "off the plane", "relative to the paths' spread"]
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["optimizer"]["pinned"] and all(config[name].get("help") for name in table.columns[1:7])
    assert "of the paths' variance" in texts(at.markdown)
    # the link names the racers (a reader looks for them first) and nothing else at the defaults
    assert query_of(at) == {"o1": "SGD", "o1.lr": "0.1", "o2": "SGD", "o2.lr": "0.1", "o2.momentum": "0.9",
                            "o3": "Adam", "o3.lr": "0.01"}  # fmt: skip


def test_a_link_restores_its_race_and_the_widgets_round_trip():
    query = {
        **SMALL,
        "o1": "Adam",
        "o1.lr": "0.02",
        "o2": "RMSprop",
        "o2.lr": "0.003",
        "plane": "random",
        "data": "cubic",
    }
    at = open_page(PAGE, query)
    ok(at)
    assert at.session_state["nn_n_opt"] == 2 and at.session_state["nn_o1_name"] == "RMSprop"
    assert query_of(at) == query
    assert len(at.dataframe[0].value) == 2
    assert "random directions hold" in texts(at.markdown)


def test_adding_an_optimizer_adds_a_racer():
    at = open_page(PAGE, SMALL)
    at.button(key="nn_add").click().run()
    ok(at)
    assert at.session_state["nn_n_opt"] == 4 and at.session_state["nn_o3_name"] == "RMSprop"
    assert chart_spec(at)["layout"]["meta"]["racers"] == 4
    assert query_of(at)["o4"] == "RMSprop"


def test_a_diverging_lr_is_flagged_not_a_traceback():
    at = open_page(PAGE, {**SMALL, "o1": "SGD", "o1.lr": "1000", "data": "cubic", "act": "relu"})
    ok(at)
    assert "diverged at step" in texts(at.warning)
    assert "diverged" in list(at.dataframe[0].value["status"])
    # on the map, its label runs from the last good point towards the window's middle, not off the plot
    layout, traces = chart_spec(at)["layout"], chart_spec(at)["data"]
    (marker,) = [t for t in traces if str(t.get("text", [""])[0]).startswith("diverged at step")]
    middle = sum(layout["xaxis"]["range"]) / 2
    assert marker["textposition"] == ("top right" if marker["x"][0] < middle else "top left")


@pytest.mark.parametrize(
    "query, message",
    [
        ({"width": "64", "depth": "4", "steps": "1000", "n": "1000"}, "more than this server's"),
        ({"o1": "Newton", "o1.lr": "1"}, "Unknown optimizer|Hessian"),
        ({"device": "cuda"}, "unavailable|CUDA"),
    ],
)
def test_hostile_links_get_a_clear_message(query, message):
    import re

    if query.get("device") == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    at = open_page(PAGE, query)
    ok(at)
    shown = texts(at.error) + texts(at.info) + texts(at.warning) + texts(at.markdown)
    assert re.search(message, shown), shown[:2000]


@pytest.mark.parametrize(
    "query",
    [
        {"data": "spirals", "width": "48", "steps": "300"},
        {"n": "1000", "mode": "minibatch", "bs": "32", "steps": "300"},
    ],
)
def test_races_of_about_a_second_are_drawn_not_refused(query):
    # half a second of training each here; the multiply-add count the page used before refused both (the
    # second as if every minibatch step took all 1,000 samples)
    at = open_page(PAGE, query)
    ok(at)
    assert not at.error, texts(at.error)
    meta = chart_spec(at)["layout"]["meta"]
    assert meta["racers"] == 3 and meta["frame_steps"][-1] == 300


@pytest.mark.parametrize(
    "query, field, label",
    [
        ({"data": "spirals", "n": "1000", "width": "64", "steps": "300"}, "steps", "Train {} steps"),  # recorded
        ({"n": "1000", "width": "64", "depth": "4", "steps": "50", "grid": "61"}, "grid", "Use a {}² grid"),  # picture
    ],
)
def test_a_refusal_offers_what_fits_and_one_click_applies_it(query, field, label):
    import re

    at = open_page(PAGE, query)
    ok(at)
    (refusal,) = [str(e.value).replace("\\", "") for e in at.error]
    said = r"at most ([\d,]+) steps fit" if field == "steps" else r"a grid of (\d+) points per axis fits"
    fitting = int(re.search(said, refusal).group(1).replace(",", ""))
    button = at.button(key=f"nn_fit_{field}")
    assert button.label == label.format(f"{fitting:,}")
    button.click().run()
    ok(at)
    assert not at.error, texts(at.error)
    assert query_of(at)[field] == str(fitting) and at.session_state[f"nn_{field}"] == fitting
    meta = chart_spec(at)["layout"]["meta"]
    assert meta["frame_steps"][-1] == (fitting if field == "steps" else int(query["steps"]))


def test_the_exports_hold_every_step():
    from ui.network import view

    at = open_page(PAGE, SMALL)
    ok(at)
    # the page's own builders, on the race it just drew (the download buttons call them lazily)
    values = at.session_state["nn__values"]
    setting, _ = view.setting_of(values)
    from ui.network import compute

    paths, _ = compute.race(setting)
    picture = compute.picture(setting, paths)
    run = view.Run(setting, compute.dataset("moons", 60, 0.1, 0), paths, picture, ["a", "b", "c"])
    csv = view.paths_csv(run).splitlines()
    assert csv[0].startswith("optimizer,step,loss") and len(csv) == 1 + 3 * 41
    data = json.loads(view.paths_json(run, {"n": "60"}))
    assert len(data["racers"]) == 3 and len(data["racers"][0]["loss"]) == 41
    assert len(data["grid"]["loss"]) == 11
    # hovering the map reads the same grid's loss at each of its points (the colours alone cannot say it)
    (hover,) = [t for t in chart_spec(at)["data"] if t.get("name") == "loss on the plane"]
    grid = np.array(data["grid"]["loss"], dtype=float)
    a, b = np.meshgrid(data["grid"]["alpha"], data["grid"]["beta"])
    assert np.allclose(plotly_array(hover["x"]), a.ravel(), rtol=1e-6) and np.allclose(
        plotly_array(hover["y"]), b.ravel(), rtol=1e-6
    )
    assert np.allclose(plotly_array(hover["customdata"]), grid.ravel(), rtol=1e-4)
    assert hover["marker"]["opacity"] == 0 and "loss on the plane %{customdata" in hover["hovertemplate"]
    # Copy as PyTorch: the page's script for this race, with the page's labels (run by tests/test_network_script.py)
    script = view.pytorch_script(run)
    compile(script, "gdviz_network_moons.py", "exec")
    assert "('a', racer_1)" in script and "STEPS = 40" in script and "N = 60" in script
    labels = [e.proto.label for e in at.get("download_button")]
    assert labels == ["Paths (CSV)", "Paths and grid (JSON)", "Copy as PyTorch (script)"]


def test_a_race_the_script_cannot_reproduce_says_why_instead_of_a_button():
    at = open_page(PAGE, {**SMALL, "o1": "Lion", "o1.lr": "0.001"})
    ok(at)
    assert "No PyTorch script for this race" in texts(at.caption) and "Lion" in texts(at.caption)
    assert [e.proto.label for e in at.get("download_button")] == ["Paths (CSV)", "Paths and grid (JSON)"]


def test_racers_are_labelled_by_what_differs():
    """Two SGDs that differ only in momentum do not read alike in the legend (the Playground's labels)."""
    from gdviz.network.training import Racer
    from ui.network.view import racer_labels

    labels = racer_labels((Racer("SGD", {"lr": 0.1}), Racer("SGD", {"lr": 0.1, "momentum": 0.9}), Racer("Adam")))
    assert labels == ["1. SGD η=0.1", "2. SGD η=0.1, μ=0.9", "3. Adam η=0.001"]


def _panels(layout: dict) -> list[tuple[list[float], list[float]]]:
    """Each panel's (x domain, y domain): the landscape, the network's function, the loss, the distance."""
    names = [("xaxis", "yaxis"), ("xaxis2", "yaxis2"), ("xaxis3", "yaxis3"), ("xaxis4", "yaxis4")]
    return [(layout[x]["domain"], layout[y]["domain"]) for x, y in names]


def test_the_panels_stand_two_by_two_with_room_for_tick_labels_between_them():
    at = open_page(PAGE, SMALL)
    ok(at)
    layout = chart_spec(at)["layout"]
    (x1, y1), (x2, y2), (x3, y3), (x4, y4) = _panels(layout)
    assert y1 == y2 and y3 == y4 and y3[1] < y1[0]  # two rows
    for left, right in ((x1, x2), (x3, x4)):  # a tenth of the width at least: a projector's ~470 px leave ~47
        assert right[0] - left[1] >= 0.1 - 1e-9
    assert not layout["meta"]["phone"] and "dragmode" not in layout
    # the long explanation is one click away, under one sentence: the chart comes first
    assert at.expander[0].label == "How the picture is made, and how far to trust it"
    assert "filter-normalized random directions" in texts(at.expander[0].markdown)


def test_on_a_phone_the_panels_stack_at_full_width_and_a_drag_scrolls_the_page(monkeypatch):
    import ui.network.view

    monkeypatch.setattr(ui.network.view, "on_phone", lambda: True)
    at = open_page(PAGE, SMALL)
    ok(at)
    layout = chart_spec(at)["layout"]
    panels = _panels(layout)
    assert all(x == [0.0, 1.0] for x, _ in panels)
    tops = [y for _, y in panels]
    assert all(upper[0] > lower[1] for upper, lower in zip(tops, tops[1:]))  # one under another, in order
    assert tops[0][1] - tops[0][0] == max(y[1] - y[0] for y in tops)  # the landscape the tallest
    assert layout["meta"]["phone"] and layout["dragmode"] is False
    slider, buttons = layout["sliders"][0], layout["updatemenus"][0]
    assert slider["x"] == 0 and slider["len"] == 1 and buttons["y"] < slider["y"]  # its own row, Play under it
    assert tops[0][0] > slider["y"] and buttons["y"] > tops[1][1]  # both right under the map: one screen holds them
