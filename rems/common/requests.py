"""The app's request class: a JSON body nested too deeply is a 400, not a RecursionError."""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.exceptions import BadRequest

TOO_DEEP = "The JSON body is nested too deeply."


class BoundedJSONRequest(Request):
    """Flask's request, whose JSON parsing turns Python's recursion limit into a 400."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The parsed body; a body nested past the parser's depth reads as invalid JSON."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest(TOO_DEEP) from None
