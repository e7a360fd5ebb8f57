"""At most one uploaded file per session in Streamlit's uploaded-file manager, none for a session gone.

Streamlit's upload endpoint (``PUT /_stcore/upload_file/<session_id>/<file_id>``) stores every file an
active session sends, whether or not a widget asked for it, and keeps them until the session shuts
down — which a session that disconnects and then expires from the reconnect store never does. One
session posting 40 files of 4.9 MB kept 200 MB after its tab closed. The app's only uploader takes one
file (the Linear Regression page's CSV), so the manager keeps each session's newest file and drops the
others when a new one arrives, and drops the files of sessions no longer connected at the next upload
or page run. (The page keeps the chosen file's bytes in its session state, so a visitor who reconnects
keeps the data even though the widget's copy is gone.)

Only the manager's own methods are called (``add_file``, ``remove_file``, ``remove_session_files``) and
``Runtime.is_active_session``; a manager without them (not Streamlit's in-memory one) is left as it is.
"""

from __future__ import annotations

import threading
from typing import Any


class OneUploadPerSession:
    """Wraps ``manager.add_file`` so that a session's new file replaces its previous one."""

    def __init__(self, runtime: Any, manager: Any):
        self.runtime = runtime
        self.manager = manager
        self.add_file = manager.add_file  # Streamlit's own, called first
        self.newest: dict[str, str] = {}  # session id -> the one file id kept for it
        self.lock = threading.Lock()

    def add_newest(self, session_id: str, file: Any) -> None:
        self.add_file(session_id, file)
        with self.lock:
            previous = self.newest.get(session_id)
            self.newest[session_id] = file.file_id
        if previous is not None and previous != file.file_id:
            self.manager.remove_file(session_id, previous)
        self.sweep()

    def sweep(self) -> None:
        """Drop the files of every session that is no longer connected."""
        with self.lock:
            gone = [sid for sid in self.newest if not self.runtime.is_active_session(sid)]
            for sid in gone:
                del self.newest[sid]
        for sid in gone:
            self.manager.remove_session_files(sid)


def keep_one_upload_per_session() -> None:
    """Install the keeper on the running server's manager (once), then sweep departed sessions' files.

    Called on every run of every page (app.py): cheap, and the first run of the first session installs it
    before that session can upload anything its script would read."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # AppTest and bare script runs have no server, hence no upload endpoint
        return
    runtime = Runtime.instance()
    manager = runtime.uploaded_file_mgr
    keeper = getattr(manager.add_file, "__self__", None)  # installed: add_file is the keeper's bound method
    if not isinstance(keeper, OneUploadPerSession):
        if not (hasattr(manager, "remove_file") and hasattr(manager, "remove_session_files")):
            return
        keeper = OneUploadPerSession(runtime, manager)
        manager.add_file = keeper.add_newest
    keeper.sweep()
