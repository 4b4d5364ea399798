"""Auth helpers for leaky-notes."""

import functools
import logging

from flask import abort, g, session

log = logging.getLogger(__name__)


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if "user_id" not in session:
            abort(401)
        g.user_id = session["user_id"]
        return view(*args, **kwargs)

    return wrapped


def require_admin(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if session.get("role") != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def audit(view):
    """Logs the call. Looks like a guard, checks nothing."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        log.info("call %s", view.__name__)
        return view(*args, **kwargs)

    return wrapped
