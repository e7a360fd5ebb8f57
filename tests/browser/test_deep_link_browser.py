"""A fresh server's first visitor who comes by a page's own address gets the page through app.py (issue 17).

Before: Streamlit ran pages/<name>.py on its own for /<name> until some run of app.py had called st.navigation
(its mode from before st.navigation, for apps with a pages/ folder), so after a restart a shared link's visitors
ran their page without app.py's setup and protections (ui/app_guard.py). Each test starts its own server: the mode
belongs to the server process, and any earlier visit to the root would have switched it off.
"""

from __future__ import annotations

import pytest

from tests.app_server import AppServer

pytestmark = pytest.mark.browser

NAV = '[data-testid="stSidebarNav"]'


@pytest.mark.parametrize(
    ("path", "shown"),
    [("/schedules?steps=300", "Learning-rate schedules"), ("/landscape?view=critical", "Landscape Lab")],
)
def test_a_fresh_servers_first_request_at_a_page_address_runs_through_the_app(browser, tmp_path, path, shown):
    server = AppServer(tmp_path / "server.log")
    server.start(timeout_s=120)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(server.url + path)
        tab.get_by_role("heading", name=shown).first.wait_for(state="visible", timeout=120_000)
        # app.py's page setup: its title, and its navigation's page names (not the files' names)
        assert tab.title().startswith("gdviz"), tab.title()
        names = tab.locator(NAV).inner_text()
        assert "Landscape Lab" in names and "Linear Regression" in names and "regression" not in names.split()
        assert "?" in tab.url and path.split("?")[1] in tab.url  # the link's values are kept
    finally:
        context.close()
        server.stop()
