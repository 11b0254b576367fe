"""NUL characters in web forms and query strings are refused before any view sees them.

PostgreSQL cannot store a NUL in a text column (the driver raises, which was a 500 even on the
sign-in page) and SQLite stores it silently. No field of this system has a use for one, so every
web request carrying one gets a 400 page naming the field, and an API request whose query string
carries one a 400 in the API's error shape; the JSON API's parser refuses body fields one by one
(422).
"""

from __future__ import annotations

from flask import Flask, render_template, request

from rems.errors import api_error

NUL = "\x00"
MESSAGE = (
    "The field “{field}” contains a NUL character (an invisible control character, often "
    "pasted by accident), which cannot be stored. Remove it and submit the form again."
)

API_MESSAGE = "The query parameter “{field}” contains a NUL character, which cannot be stored."
API_DETAIL = "Text may not contain NUL characters."


def install(app: Flask) -> None:
    """Check every web request's fields before the views run."""
    app.before_request(_refuse_nul)


def _refuse_nul():
    """A 400 naming the first field that carries a NUL character: a page, or under /api
    (every nested API blueprint included) the API's error shape."""
    field = _first_field_with_nul()
    if field is None:
        return None
    name = field.replace(NUL, "") or "(unnamed)"
    if request.path == "/api" or request.path.startswith("/api/"):
        return api_error(400, API_MESSAGE.format(field=name), {name: [API_DETAIL]})
    message = MESSAGE.format(field=name)
    return render_template("errors/generic.html", status=400, message=message), 400


def _first_field_with_nul() -> str | None:
    """The name of the first query or form field (or uploaded file name) with a NUL. A JSON
    body has neither form fields nor files (its parser checks its own fields), so only its
    query string is looked at, sparing the form parser on the API's hot path."""
    json_body = request.is_json
    for source in (request.args,) if json_body else (request.args, request.form):
        for name, value in source.items(multi=True):
            if NUL in name or NUL in value:
                return name
    if json_body:
        return None
    for name, upload in request.files.items(multi=True):
        if NUL in name or NUL in (upload.filename or ""):
            return name
    return None
