"""Bearer tokens for the REST service: created once, stored only as a salted scrypt hash.

A token looks like ``cpt_<id>.<secret>``: ``id`` (12 hex digits) names the row in the workspace's
``service_tokens`` table, ``secret`` (43 URL-safe characters, 256 random bits) is never stored.
The table holds a random salt and ``scrypt(secret, salt)``; a presented token is checked by
recomputing the hash and comparing in constant time.

Roles are ordered: ``viewer`` (read results, snapshots, policy packs) < ``analyst`` (also run
questions) < ``admin`` (also import, delete snapshots, manage tokens, read the audit log).

DuckDB lets one process write a workspace file. While ``cleanpath serve`` runs it holds the file,
so tokens are then managed through the service's ``/api/tokens`` routes (as an admin); with the
service stopped, ``cleanpath token create|list|revoke`` work on the file directly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import pandas as pd

from cleanpath.errors import Problem, ValidationError

#: Roles from least to most privileged.
ROLES = ("viewer", "analyst", "admin")
#: What each role may do (shown by ``/api/whoami`` and the docs).
PERMISSIONS = {
    "viewer": ("read results", "read snapshots", "read policy packs", "read map data"),
    "analyst": ("run questions",),
    "admin": ("import", "delete snapshots", "manage tokens", "read the audit log"),
}
PREFIX = "cpt_"
_TOKEN = re.compile(r"^cpt_([0-9a-f]{12})\.([A-Za-z0-9_\-]{20,128})$")
# scrypt at N=2**14, r=8 costs ~16 MiB and tens of milliseconds per check: cheap for one login,
# expensive for an offline guesser. Verified tokens are remembered in memory (see TokenStore.verify).
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_KDF_NAME = "scrypt-n16384-r8-p1"
# What an unknown token id is checked against, so that it costs a full scrypt like a known one.
_DUMMY_SALT = secrets.token_bytes(16)
_DUMMY_HASH = hashlib.scrypt(b"cleanpath-dummy", salt=_DUMMY_SALT, **_SCRYPT)

_DDL = """
CREATE TABLE IF NOT EXISTS service_tokens (
    token_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    role VARCHAR NOT NULL,
    kdf VARCHAR NOT NULL,
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR,
    revoked_at TIMESTAMP
)"""


def role_rank(role: str) -> int:
    """Position of ``role`` in :data:`ROLES` (higher may do more)."""
    return ROLES.index(role)


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else a ValidationError."""
    if role not in ROLES:
        raise ValidationError(Problem(f"unknown role; use one of {', '.join(ROLES)}", column="role", value=role))
    return role


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name and role."""

    token_id: str
    name: str | None
    role: str

    def may(self, role: str) -> bool:
        """True when this principal's role is at least ``role``."""
        return role_rank(self.role) >= role_rank(role)


@dataclass(frozen=True)
class NewToken:
    """A freshly created token; ``token`` is shown once and never stored."""

    token_id: str
    name: str | None
    role: str
    token: str
    created_at: datetime


class TokenStore:
    """Tokens in a workspace's DuckDB file.

    Parameters
    ----------
    con
        A DuckDB connection to the workspace (its own cursor: the store may be used from another
        thread than the workspace's main connection).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._lock = threading.Lock()
        # sha256(token) -> Principal for tokens already verified by scrypt in this process. The
        # service is the only writer of the file while it runs, so revocations happen here too and
        # clear the entry (see revoke).
        self._verified: dict[bytes, Principal] = {}
        self._generation = 0  # bumped by every revoke (see verify)
        with self._lock:
            self.con.execute(_DDL)

    def create(self, *, role: str, name: str | None = None, created_by: str | None = None) -> NewToken:
        """Create a token with ``role``; returns it (the only time the secret is available)."""
        check_role(role)
        if name is not None and len(name) > 200:
            raise ValidationError(Problem("token name longer than 200 characters", column="name", value=name))
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        now = _now()
        with self._lock:
            self.con.execute("INSERT INTO service_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                             [token_id, name, role, _KDF_NAME, salt, _hash(secret, salt), now, created_by])
        return NewToken(token_id, name, role, f"{PREFIX}{token_id}.{secret}", now)

    def list(self) -> pd.DataFrame:
        """Every token (never the hash): token_id, name, role, created_at, created_by, revoked_at."""
        with self._lock:
            return self.con.execute(
                "SELECT token_id, name, role, created_at, created_by, revoked_at FROM service_tokens "
                "ORDER BY created_at, token_id").df()

    def revoke(self, token_id: str) -> bool:
        """Revoke a token; False if no active token has this id."""
        with self._lock:
            rows = self.con.execute("SELECT revoked_at FROM service_tokens WHERE token_id = ?", [token_id]).fetchall()
            if not rows or rows[0][0] is not None:
                return False
            self.con.execute("UPDATE service_tokens SET revoked_at = ? WHERE token_id = ?", [_now(), token_id])
            self._verified = {k: p for k, p in self._verified.items() if p.token_id != token_id}
            self._generation += 1
        return True

    def verify_cached(self, token: str) -> Principal | None:
        """The principal of a token this process has already verified (no hashing, no database)."""
        return self._verified.get(hashlib.sha256(token.encode("utf-8")).digest())

    def verify(self, token: str) -> Principal | None:
        """The principal a presented token stands for, or None if it is malformed, unknown or revoked.

        An unknown token id costs the same scrypt as a known one (it is compared against a dummy
        hash), so the time taken does not tell a guesser which ids exist. scrypt runs outside the
        store's lock: checks of different tokens, and token management, do not queue behind it.
        """
        m = _TOKEN.match(token or "")
        if not m:
            return None
        key = hashlib.sha256(token.encode("utf-8")).digest()
        hit = self._verified.get(key)
        if hit is not None:
            return hit
        token_id, secret = m.groups()
        with self._lock:
            rows = self.con.execute("SELECT name, role, salt, hash, revoked_at FROM service_tokens "
                                    "WHERE token_id = ?", [token_id]).fetchall()
            generation = self._generation
        if rows:
            name, role, salt, stored, revoked = rows[0]
            salt, stored = bytes(salt), bytes(stored)
        else:
            name, role, revoked, salt, stored = None, None, None, _DUMMY_SALT, _DUMMY_HASH
        ok = hmac.compare_digest(_hash(secret, salt), stored)
        if not rows or revoked is not None or not ok:
            return None
        principal = Principal(token_id, name, role)
        with self._lock:
            # a revoke between the lookup and now bumped the generation: look again rather than
            # remember a token that is no longer valid
            if generation != self._generation:
                still = self.con.execute("SELECT revoked_at FROM service_tokens WHERE token_id = ?",
                                         [token_id]).fetchall()
                if not still or still[0][0] is not None:
                    return None
            self._verified[key] = principal
        return principal
