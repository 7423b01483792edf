"""Who is at the desk: password logins under the throttle, /admin sessions on the server, API tokens.

Logins: while the login name or the client address is locked, every attempt gets 429, the right password
too. A name's attempt counts as a failure before its password is checked (a success clears it), so parallel
guesses cannot slip past the limit. Unknown names are counted, locked and answered exactly like known ones,
and cost the same slow hash (auth.password_matches). Failures are audited with the client address, never
with the password. API tokens: well-formed but unknown or revoked tokens (guesses) count against the client
address; while it is locked, its requests get 429.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..runtime import Runtime
from . import access_records, records, throttle
from .access_records import SessionRecord
from .auth import password_matches, token_digest, well_formed
from .rules import TooManyRequests, Unauthorized, User
from .sessions import agent_summary, alive, new_session_id, sid_digest
from .throttle import Attempts

TOKEN_HINT = "Send a valid API token as `Authorization: Bearer <token>`."
LOCKED = "Too many failed attempts; try again after the time in Retry-After."
KEEP_ENDED = timedelta(days=30)  # ended sessions stay listed in the table this long, for an investigation
UNKNOWN = "-"  # the audit's actor for a login name nobody has (the name itself is not recorded)


class Access:
    """Logins, sessions and tokens of one running server."""

    def __init__(self, runtime: Runtime):
        self.engine = runtime.store.engine
        self.settings = runtime.settings.desk

    # --- passwords ------------------------------------------------------------------------------------
    def login(
        self, name: str, password: str, address: str, user_agent: str, now: datetime
    ) -> tuple[User, str] | None:
        """(user, new session id) for the right password of an active user, else None; 429 while locked."""
        name_key, address_key = throttle.name_key(name), throttle.address_key(address)
        with self.engine.begin() as connection:
            before = access_records.locked_attempts(connection, name_key, now)
            wait = max(
                throttle.retry_after(before, now),
                throttle.retry_after(access_records.attempts(connection, address_key), now),
            )
            if wait:
                raise TooManyRequests(LOCKED, retry_after=wait)
            counted = throttle.after_failure(before, now, self.settings.account)
            access_records.save_attempts(connection, name_key, counted, now)
        with self.engine.connect() as connection:
            user = records.user_by_name(connection, name[:64])
            stored = records.password_hash(connection, user.id) if user else None
        if password_matches(stored, password) and user is not None and user.active:
            return user, self._start_session(user, name_key, address, user_agent, now)
        self._failed(user, address, now, throttle.started_lock(before, counted), counted)
        return None

    def _start_session(self, user: User, name_key: str, address: str, user_agent: str, now: datetime) -> str:
        sid = new_session_id()
        with self.engine.begin() as connection:
            access_records.forget_attempts(connection, name_key)
            session_id = access_records.add_session(
                connection, sid_digest(sid), user.id, now, address, agent_summary(user_agent)
            )
            lifetime = timedelta(seconds=self.settings.session_lifetime)
            access_records.purge_sessions(connection, now - KEEP_ENDED, now - lifetime - KEEP_ENDED)
            detail = f"session {session_id} from {address}"
            records.add_audit(connection, user, "login", now, detail=detail)
        return sid

    def _failed(
        self, user: User | None, address: str, now: datetime, name_locked: bool, counted: Attempts
    ) -> None:
        actor = user if user is not None else UNKNOWN
        with self.engine.begin() as connection:
            records.add_audit(connection, actor, "login-failed", now, detail=f"from {address}")
            if name_locked:
                seconds = throttle.retry_after(counted, now)
                detail = f"{self.settings.account.failures} failed logins; locked for {seconds} s"
                records.add_audit(connection, actor, "login-locked", now, detail=detail)
            self._count_for_address(connection, address, now)
            quiet = timedelta(seconds=2 * self.settings.account.cap + self.settings.account.window)
            access_records.purge_attempts(connection, now - quiet)

    def _count_for_address(self, connection, address: str, now: datetime) -> None:
        key, policy = throttle.address_key(address), self.settings.address
        before = access_records.locked_attempts(connection, key, now)
        after = throttle.after_failure(before, now, policy)
        access_records.save_attempts(connection, key, after, now)
        if throttle.started_lock(before, after):
            seconds = throttle.retry_after(after, now)
            detail = f"{address}: {policy.failures} failed logins or bad API tokens; locked for {seconds} s"
            records.add_audit(connection, UNKNOWN, "address-locked", now, detail=detail)

    # --- API tokens -----------------------------------------------------------------------------------
    def token_user(self, token: str | None, address: str, now: datetime) -> User:
        """The user behind a bearer token; Unauthorized when missing or not valid, 429 while locked."""
        key = throttle.address_key(address)
        with self.engine.connect() as connection:
            wait = throttle.retry_after(access_records.attempts(connection, key), now)
        if wait:
            raise TooManyRequests(LOCKED, retry_after=wait)
        if not token or not well_formed(token):
            raise Unauthorized(TOKEN_HINT)  # not a token this server could have made: no guess to count
        with self.engine.connect() as connection:
            user = records.user_by_token(connection, token_digest(token))
        if user is None:
            with self.engine.begin() as connection:
                self._count_for_address(connection, address, now)
            raise Unauthorized(TOKEN_HINT)
        return user

    # --- sessions -------------------------------------------------------------------------------------
    def session_user(self, sid: str, now: datetime) -> tuple[User, int] | None:
        """(user, session id) of a live session, counting this request as activity; None otherwise."""
        with self.engine.connect() as connection:
            found = access_records.session_by_sid(connection, sid_digest(sid))
            user = records.user_by_id(connection, found.user_id) if found is not None else None
        if found is None or found.revoked_at is not None:
            return None
        with self.engine.begin() as connection:  # every statement here writes first (SQLite: no lock upgrade)
            if user is None or not user.active or not alive(found, now, self.settings):
                # Ended for good: a later request (or a clock stepping back) does not revive it.
                access_records.revoke_session(connection, found.id, now)
                return None
            if not access_records.touch_session(connection, found.id, now):
                return None  # ended by another request just now
        return user, found.id

    def logout(self, user: User, session_id: int, now: datetime) -> None:
        """End the session the request came with."""
        with self.engine.begin() as connection:
            access_records.revoke_session(connection, session_id, now)
            records.add_audit(connection, user, "logout", now, detail=f"session {session_id}")

    def sessions(self, user: User, now: datetime) -> list[SessionRecord]:
        """The user's live sessions, newest first."""
        with self.engine.connect() as connection:
            found = access_records.sessions_of(connection, user.id)
        return [s for s in found if alive(s, now, self.settings)]

    def end_session(self, user: User, session_id: int, now: datetime) -> bool:
        """End one of the user's own sessions; False when they have no such open session."""
        with self.engine.begin() as connection:
            ended = access_records.revoke_session(connection, session_id, now, user_id=user.id)
            if ended:
                records.add_audit(connection, user, "session-end", now, detail=f"session {session_id}")
        return ended
