"""The upload keeper on Streamlit's real in-memory manager: a session's new file replaces its previous
one, and the files of a session no longer connected are dropped (the browser test drives the endpoint)."""

from __future__ import annotations

from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui.uploads import OneUploadPerSession


class Sessions:
    """The one Runtime method the keeper asks: which sessions are connected."""

    def __init__(self, *active: str):
        self.active = set(active)

    def is_active_session(self, session_id: str) -> bool:
        return session_id in self.active


def upload(manager, session_id: str, file_id: str, size: int = 1000) -> None:
    manager.add_file(session_id, UploadedFileRec(file_id, f"{file_id}.csv", "text/csv", b"x" * size))


def kept(manager, session_id: str, *file_ids: str) -> list[str]:
    return [rec.file_id for rec in manager.get_files(session_id, list(file_ids))]


def keeper_on(sessions: Sessions) -> MemoryUploadedFileManager:
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    manager.add_file = OneUploadPerSession(sessions, manager).add_newest
    return manager


def test_forty_uploads_in_one_session_keep_the_newest_only():
    manager = keeper_on(Sessions("a", "b"))
    ids = [f"f{k}" for k in range(40)]
    for file_id in ids:
        upload(manager, "a", file_id)
    upload(manager, "b", "other")
    assert kept(manager, "a", *ids) == ["f39"]
    assert kept(manager, "b", "other") == ["other"]  # another session's file is its own
    assert manager.get_stats()["cache_memory_bytes"][0].byte_length == 2000


def test_the_same_file_id_sent_again_is_kept():
    manager = keeper_on(Sessions("a"))
    upload(manager, "a", "f")
    upload(manager, "a", "f", size=10)
    assert kept(manager, "a", "f") == ["f"]


def test_a_departed_sessions_files_are_dropped_at_the_next_upload_or_sweep():
    sessions = Sessions("a", "b")
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    keeper = OneUploadPerSession(sessions, manager)
    manager.add_file = keeper.add_newest
    upload(manager, "a", "fa")
    upload(manager, "b", "fb")
    sessions.active.discard("a")  # the tab closed
    keeper.sweep()
    assert kept(manager, "a", "fa") == [] and kept(manager, "b", "fb") == ["fb"]
    sessions.active = {"c"}
    upload(manager, "c", "fc")  # a session's upload sweeps the others that are gone
    assert kept(manager, "b", "fb") == [] and keeper.newest == {"c": "fc"}
