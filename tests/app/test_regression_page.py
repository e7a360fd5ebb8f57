"""The Linear Regression page in-process (AppTest): synthetic data, uploads, presets, devices, errors.

AppTest cannot drive ``st.file_uploader``; the page keeps the last upload in ``st.session_state``
under ``rg_upload`` (so that it survives a page switch), and the tests put a file's bytes there —
the same path an upload takes after the widget. The CSV validation itself is tested directly in
tests/test_regression.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gdviz import regression as reg
from tests.torch_reference import SKIP_REASON

torch = pytest.importorskip("torch", reason=f"the page trains with torch: {SKIP_REASON}")

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "regression.py")


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=120).run()


def uploaded(name: str | None = None, data: bytes = b"") -> AppTest:
    """The page after choosing "upload a CSV" and, unless ``name`` is None, uploading ``data``."""
    at = page()
    if name is not None:
        at.session_state["rg_upload"] = (name, data)
    return at.radio(key="rg_src").set_value("upload").run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def texts(elements) -> str:
    """The elements' text as the visitor reads it (the page escapes Markdown in the visitor's text)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in elements))


def final_loss_delta(at: AppTest) -> str:
    return next(m.delta for m in at.metric if m.label == "final loss")


def test_the_default_converges_to_the_closed_form_and_says_so():
    """The notes' data (N = 100, x ~ 10·N(0, 1)), standardized, full-batch GD at lr 0.1 for 60 epochs: the fit
    is the least-squares one, and the page reads a gap of float rounding as agreement, not as an alarm."""
    at = page()
    assert_clean(at)
    assert not at.error
    X, y = reg.make_data(100, seed=0)
    expected = reg.train(X.numpy(), y.numpy()[:, 0], "SGD", lr=0.1, epochs=60, seed=0, standardize=True)
    closed = reg.solve(X.numpy(), y.numpy()[:, 0])
    assert metric(at, "trained w") == f"{expected.weight[0]:.4g}"
    assert metric(at, "trained b") == f"{expected.bias:.4g}"
    assert metric(at, "final loss") == f"{expected.final_loss:.5g}"
    assert abs(expected.final_loss - closed.loss) <= 1e-6 * closed.loss
    assert abs(expected.weight[0] - closed.weight[0]) < 1e-4 and abs(expected.bias - closed.bias) < 1e-4
    assert final_loss_delta(at).startswith("= closed form")
    assert "GD (full batch)" in str(at.table[-1].value.iloc[-1, 0])  # the closed-form table names the method
    assert len(at.get("plotly_chart")) == 4  # fit, its loss, the landscape, the comparison's losses
    table = at.table[0].value
    assert list(table.columns)[1:] == ["GD", "SGD (b = 1)", "minibatch b = 10"]
    assert table.iloc[0].tolist()[1:] == ["100", "1", "10"]  # samples per update
    assert "d2l 12.5, checked on cpu" in texts(at.markdown)


def test_changing_a_setting_retrains_and_the_notes_button_restores_their_experiment():
    at = page()
    at.number_input(key="rg_n").set_value(300).run()
    at.radio(key="rg_mode").set_value("minibatch").run()
    assert_clean(at)
    assert at.number_input(key="rg_bs").value == 10
    changed = metric(at, "trained w")
    at.button(key="rg_notes_preset").click().run()
    assert_clean(at)
    assert at.number_input(key="rg_n").value == 100 and at.radio(key="rg_mode").value == "GD"
    assert at.radio(key="rg_std").value == "raw" and at.number_input(key="rg_epochs").value == 10
    assert metric(at, "trained w") != changed
    # the notes' experiment, trained by the library: 10 epochs at lr 0.001 stop far from the fit, and say so
    X, y = reg.make_data(100, seed=0)
    expected = reg.train(X.numpy(), y.numpy()[:, 0], "SGD", lr=0.001, epochs=10, seed=0)
    assert metric(at, "trained w") == f"{expected.weight[0]:.4g}"
    assert metric(at, "final loss") == f"{expected.final_loss:.5g}"
    assert final_loss_delta(at).endswith("vs closed form") and final_loss_delta(at).startswith("+")
    assert at.query_params.get("n") is None  # the notes' data is the default data: no n in the link


def test_the_d2l_preset_measures_all_four_claims():
    at = page()
    at.button(key="rg_d2l_preset").click().run()
    assert_clean(at)
    assert at.number_input(key="rg_n").value == 1500 and at.radio(key="rg_std").value == "standardized"
    table = at.table[0].value
    assert list(table.columns)[1:] == ["GD", "SGD (b = 1)", "minibatch b = 10", "minibatch b = 100"]
    claims = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert len(claims) == 4 and not any(":material/remove:" in c for c in claims)
    # five features: no line to draw, a predicted-vs-actual plot instead; no (w, b) landscape
    assert "no line to draw" in texts(at.caption)
    assert "picture for one feature" in texts(at.info)


def test_the_shared_synthetic_data_is_never_written_into():
    """The synthetic data is one object shared by every session asking for it (st.cache_resource): standardized,
    minibatch and Newton training, the closed form and the comparison all leave it as it was made."""
    from ui.regression import compute

    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update({"n": "300", "d": "2", "mode": "minibatch", "std": "standardized", "opt": "Newton"})
    at.run()
    assert_clean(at)
    shared = compute.synthetic(300, 2, 2.0, 1.0, 2.0, 10.0, 0)
    X, y = reg.make_data(300, 2, w=[2.0, 2.0], b=1.0, noise=2.0, seed=0, x_scale=10.0)
    assert at.number_input(key="rg_n").value == 300 and at.radio(key="rg_std").value == "standardized"
    np.testing.assert_array_equal(shared[0], X.numpy())
    np.testing.assert_array_equal(shared[1], y.numpy()[:, 0])


def test_a_link_sets_the_page():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["n"] = "250"
    at.query_params["opt"] = "Adam"
    at.query_params["opt.lr"] = "0.05"
    at.query_params["bogus"] = "1"
    at.run()
    assert_clean(at)
    assert at.number_input(key="rg_n").value == 250 and at.selectbox(key="rg_opt").value == "Adam"
    assert "bogus" in texts(at.warning)


CSV = "x,noise,y\n" + "".join(f"{x},{(7 * x) % 5},{3 * x - 1}\n" for x in range(40))


def test_an_uploaded_csv_trains_on_the_chosen_columns():
    at = uploaded("line.csv", CSV.encode())
    assert_clean(at)
    assert at.selectbox(key="rg_target").value == "y" and at.multiselect(key="rg_features").value == ["x"]
    assert "line.csv" in texts(at.caption)
    at.radio(key="rg_std").set_value("standardized").run()
    at.select_slider(key="rg_opt_SGD_lr").set_value(0.5).run()
    at.number_input(key="rg_epochs").set_value(200).run()
    assert_clean(at)
    assert float(metric(at, "trained w")) == pytest.approx(3.0, rel=1e-3)
    assert float(metric(at, "trained b")) == pytest.approx(-1.0, rel=1e-2)


def test_an_upload_with_missing_values_is_dropped_or_refused():
    text = "x,y\n1,2\n2,\n3,6\n4,8\n"
    at = uploaded("gaps.csv", text.encode())
    assert_clean(at)
    assert "Dropped 1 row(s)" in texts(at.warning)
    at.radio(key="rg_missing").set_value("refuse").run()
    assert_clean(at)
    assert "missing values" in texts(at.error)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"a,b\n1,2,3\n", "Line 2 has 3 fields"),
        (b"city,country\nParis,France\nRome,Italy\n", "two numeric columns"),
    ],
)
def test_a_bad_upload_is_a_message_not_a_traceback(data, message):
    at = uploaded("bad.csv", data)
    assert_clean(at)
    assert message in texts(at.error)


def test_no_upload_yet_says_what_to_do():
    at = uploaded()
    assert_clean(at)
    assert "Upload a CSV" in texts(at.info)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message where CUDA is missing")
def test_an_unavailable_device_says_why_and_the_page_keeps_working():
    at = page()
    at.radio(key="rg_device").set_value("cuda").run()
    assert_clean(at)
    assert "CUDA is unavailable:" in texts(at.error)
    assert "unavailable:" in texts(at.caption)
    at.radio(key="rg_device").set_value("cpu").run()
    assert_clean(at)
    assert not at.error


def test_out_of_memory_is_a_clear_message(monkeypatch):
    def boom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")

    monkeypatch.setattr("gdviz.regression.training._train", boom)
    st.cache_data.clear()
    at = page()
    assert_clean(at)
    assert "ran out of memory" in texts(at.error) and "Try fewer samples" in texts(at.error)
    monkeypatch.undo()
    st.cache_data.clear()
    at.run()
    assert not at.error


def test_a_diverging_run_is_explained():
    at = page()
    at.radio(key="rg_std").set_value("raw").run()  # raw x ~ 10·N(0, 1): GD is stable below lr ≈ 0.01
    at.select_slider(key="rg_opt_SGD_lr").set_value(0.5).run()
    assert_clean(at)
    assert "diverged" in texts(at.error)
    for label in ("trained w", "trained b", "final loss"):
        assert np.isfinite(float(metric(at, label)))


def test_too_much_data_is_refused_with_the_cap():
    at = page()
    at.number_input(key="rg_n").set_value(2_000_000).run()
    at.number_input(key="rg_d").set_value(1000).run()
    assert_clean(at)
    assert "lower N or d" in texts(at.error)


def test_an_engine_only_optimizer_trains_with_a_note():
    at = page()
    at.selectbox(key="rg_opt").set_value("Newton").run()
    assert_clean(at)
    assert "no torch.optim class" in texts(at.caption)
    assert at.select_slider(key="rg_opt_Newton_lr").value == 0.1  # the page keeps the previous optimizer's lr
    at.select_slider(key="rg_opt_Newton_lr").set_value(1.0).run()
    # one full-batch Newton step with η = 1 is the least-squares solution
    assert float(metric(at, "distance to closed form")) < 1e-3


def test_the_suggested_learning_rate_is_set():
    at = page()
    # in the sidebar, beside the lr it sets (in the main area it took a row of its own on every screen)
    assert [b.key for b in at.sidebar.button] == ["rg_suggest"]
    at.button(key="rg_suggest").click().run()
    assert_clean(at)
    X, _ = reg.make_data(100, seed=0)
    assert at.select_slider(key="rg_opt_SGD_lr").value == reg.suggested_lr(X.numpy(), standardize=True)
    at.radio(key="rg_std").set_value("raw").run()
    at.button(key="rg_suggest").click().run()
    assert at.select_slider(key="rg_opt_SGD_lr").value == reg.suggested_lr(X.numpy())


def test_a_session_does_not_keep_the_synthetic_data_alive():
    """Only the shared cache holds the synthetic arrays: a session (kept two minutes after its tab closed) does
    not, not even through the suggest button's callback; the button still works once the cache dropped them."""
    import gc
    import weakref

    from tests.app.apptest import open_page
    from ui.regression import compute

    # through app.py's navigation, as the server runs a page: the page script's globals (its `run`) end with the run
    at = open_page("pages/regression.py", {"n": "4000", "d": "2", "seed": "11"})
    assert_clean(at)
    made = weakref.ref(compute.synthetic(4000, 2, 2.0, 1.0, 2.0, 10.0, 11)[0])
    compute.synthetic.clear()
    gc.collect()
    assert made() is None
    at.button(key="rg_suggest").click().run()
    assert_clean(at)
    X, _ = reg.make_data(4000, 2, w=[2.0, 2.0], seed=11)
    assert at.select_slider(key="rg_opt_SGD_lr").value == reg.suggested_lr(X.numpy(), standardize=True)


def linked(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def test_a_one_cycle_stepped_per_update_plans_its_cycle_over_the_updates():
    """/regression?sched=OneCycleLR&every=update&mode=SGD&epochs=5 said "Tried to step 11 times": the cycle
    was 10 steps (the epochs) while the schedule stepped once per update (500 of them)."""
    at = linked(sched="OneCycleLR", every="update", mode="SGD", epochs="5")
    assert_clean(at)
    assert not at.error, texts(at.error)
    assert "total_steps follows the run" in texts(at.caption)
    assert not [w for w in at.number_input if "total_steps" in (w.key or "")]  # no widget to contradict the run


def test_a_run_beyond_the_memory_budget_is_refused_with_what_to_change():
    at = linked(n="2000000", d="5", mode="minibatch", bs="10", std="standardized", dtype="float64")
    assert_clean(at)
    message = texts(at.error)
    assert "MB of server memory" in message and "choose float32" in message


def test_newton_on_wide_data_takes_the_updates_the_cpu_budget_affords():
    """Newton with d = 200 on 50,000 samples was allowed 200,000 updates of ~5 ms: minutes of both cores."""
    at = linked(n="50000", d="200", opt="Newton", mode="minibatch", bs="400", epochs="500")
    assert_clean(at)
    assert "this server's time budget per run" in texts(at.warning)


def test_several_features_show_the_first_weight_and_tell_all_of_them_on_hover():
    """A metric shows one number: three weights in one ("2.003, 2.011, 1.979") were cut off even on a laptop."""
    at = page()
    at.number_input(key="rg_d").set_value(3).run()
    assert_clean(at)
    shown = next(m for m in at.metric if m.label.startswith("trained w"))
    weights = [float(v) for v in re.search(r"w = \(([^)]*)\)", shown.help).group(1).split(", ")]
    assert shown.label == "trained w₁ (of 3)" and float(shown.value) == weights[0] and len(weights) == 3
    assert weights == pytest.approx([2.0, 2.0, 2.0], abs=0.1)  # the data's true weight, every feature
    assert "closed form: (" in shown.help
