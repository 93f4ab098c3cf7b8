"""Who owns what in the store: users' uploaded files, and one-time teacher links.

Mixed into :class:`unsup_core.runs.store.RunStore` (like the control channel), so every caller has one
store object; the rules about who may see what live in :mod:`unsup_core.access`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from unsup_core.errors import UserError

SCHEMA = """
-- Who owns which stored file: one row per (file, owner); the same bytes uploaded by two users are
-- stored once and owned by both.
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    saved_at REAL NOT NULL,
    PRIMARY KEY (id, owner)
) WITHOUT ROWID;
-- The preparation (feature columns, scaling...) an owner last chose for a stored file, as the file
-- dataset's options without the path: the default wherever that owner picks the file again.
CREATE TABLE IF NOT EXISTS upload_preparations (
    id TEXT NOT NULL,
    owner TEXT NOT NULL,
    options TEXT NOT NULL,
    saved_at REAL NOT NULL,
    PRIMARY KEY (id, owner)
) WITHOUT ROWID;
-- One-time teacher links made at the server's shell; only a hash of each token is kept.
CREATE TABLE IF NOT EXISTS teacher_links (
    token_hash TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
"""
UPLOAD_FOLDER = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class UploadRecord:
    """A user's file in the store: ``id`` is ``<content hash>/<name>``, derived, never taken from input."""

    id: str
    name: str
    size: int
    owners: frozenset[str]
    saved_at: float
    shared: bool = False  # a run on it is shared with everyone


class OwnershipRecords:
    """Upload owners and teacher links; needs the store's ``home`` and ``_execute``."""

    # -- teacher links ------------------------------------------------------------------------
    def issue_teacher_link(self, minutes: float = 10.0) -> str:
        """A one-time token that turns on teacher mode for the browser that opens it first.

        The way in that no password lockout can block: 256 random bits cannot be guessed, so it needs
        no throttle, and it is made only by someone at the server's shell.
        """
        token = secrets.token_urlsafe(32)
        now = time.time()
        self._execute("DELETE FROM teacher_links WHERE expires_at < ?", (now,))
        self._execute("INSERT INTO teacher_links (token_hash, expires_at) VALUES (?, ?)",
                      (_token_hash(token), now + minutes * 60))
        return token

    def redeem_teacher_link(self, token: object) -> bool:
        """True once for a token issued here and not expired; the token is used up either way."""
        if not isinstance(token, str) or len(token) > 100:
            return False
        cursor = self._execute("DELETE FROM teacher_links WHERE token_hash=? AND expires_at >= ?",
                               (_token_hash(token), time.time()))
        return cursor.rowcount == 1

    # -- uploads ------------------------------------------------------------------------------
    @property
    def uploads_dir(self) -> Path:
        return self.home / "datasets" / "uploads"

    def upload_id(self, path: str | Path) -> str | None:
        """``<hash>/<name>`` when ``path`` is a file stored in this store's uploads, else None."""
        try:
            resolved = Path(path).resolve(strict=True)
            relative = resolved.relative_to(self.uploads_dir.resolve())
        except (OSError, ValueError, RuntimeError):
            return None
        parts = relative.parts
        if len(parts) != 2 or not UPLOAD_FOLDER.fullmatch(parts[0]) or parts[1].startswith(".") \
                or not resolved.is_file():
            return None
        return "/".join(parts)

    def record_upload(self, path: str | Path, owner: str) -> UploadRecord:
        """Make ``owner`` an owner of the stored file at ``path``."""
        upload_id = self.upload_id(path)
        if upload_id is None:
            raise UserError(f"{Path(path).name} is not a file stored in the lab")
        size = (self.uploads_dir / upload_id).stat().st_size
        self._execute("INSERT OR IGNORE INTO uploads (id, owner, name, size, saved_at) VALUES (?,?,?,?,?)",
                      (upload_id, owner, upload_id.split("/", 1)[1], size, time.time()))
        return self.get_upload(upload_id)

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        rows = self._execute("SELECT owner, name, size, saved_at FROM uploads WHERE id=?", (upload_id,)).fetchall()
        path = self.uploads_dir / upload_id
        if not path.is_file():
            return None
        if not rows:  # stored before owners were recorded: nobody's but the teacher's
            stat = path.stat()
            return UploadRecord(upload_id, path.name, stat.st_size, frozenset(), stat.st_mtime,
                                self._used_by_shared_run(path))
        return UploadRecord(upload_id, rows[0]["name"], rows[0]["size"], frozenset(row["owner"] for row in rows),
                            min(row["saved_at"] for row in rows), self._used_by_shared_run(path))

    def upload_for_path(self, path: str | Path) -> UploadRecord | None:
        upload_id = self.upload_id(path) if path else None
        return None if upload_id is None else self.get_upload(upload_id)

    def upload_path(self, upload: UploadRecord) -> Path:
        return self.uploads_dir / upload.id

    def list_uploads(self, *, visible_to: str | None = None) -> list[UploadRecord]:
        """Stored files with recorded owners, newest first; with ``visible_to``, only that owner's."""
        if visible_to is None:
            ids = [row[0] for row in self._execute("SELECT DISTINCT id FROM uploads")]
        else:
            ids = [row[0] for row in self._execute("SELECT id FROM uploads WHERE owner=?", (visible_to,))]
        uploads = [upload for upload in map(self.get_upload, ids) if upload is not None]
        return sorted(uploads, key=lambda upload: upload.saved_at, reverse=True)

    def remember_preparation(self, upload_id: str, owner: str, options: dict) -> None:
        """Keep ``options`` (the file dataset's, the path left out) as ``owner``'s preparation of the upload."""
        kept = {name: value for name, value in options.items() if name != "path"}
        self._execute("INSERT OR REPLACE INTO upload_preparations (id, owner, options, saved_at) VALUES (?,?,?,?)",
                      (upload_id, owner, json.dumps(kept, sort_keys=True), time.time()))

    def remembered_preparation(self, upload_id: str, owner: str) -> dict | None:
        """What :meth:`remember_preparation` kept for this owner and upload (None: nothing yet)."""
        row = self._execute("SELECT options FROM upload_preparations WHERE id=? AND owner=?",
                            (upload_id, owner)).fetchone()
        return None if row is None else json.loads(row[0])

    def _used_by_shared_run(self, path: Path) -> bool:
        rows = self._execute("SELECT spec FROM runs WHERE shared=1 AND dataset='file'").fetchall()
        target = str(path.resolve())
        for (spec,) in rows:
            stored = json.loads(spec).get("dataset_options", {}).get("path", "")
            if stored and str(Path(stored).resolve()) == target:
                return True
        return False

    def count_metric_rows(self, run_id: str) -> int:
        return self._execute("SELECT COUNT(*) FROM series s JOIN metrics m ON m.series_id = s.id WHERE s.run_id=?",
                             (run_id,)).fetchone()[0]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
