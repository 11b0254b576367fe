"""The form administrators use to publish a new version of a program document."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length

from rems.common.localtime import program_today
from rems.documents.services import MAX_DOCUMENT_BYTES


class PublishVersionForm(FlaskForm):
    """A new version: its label, when it takes effect, and the file itself (multipart post)."""

    label = StringField(
        "Version label",
        validators=[
            DataRequired(message="Give the version a label, e.g. 2026-11."),
            Length(max=40, message="Use at most 40 characters."),
        ],
        description='As printed on the document, e.g. "2026-11". Each label is used once.',
    )
    effective_on = DateField(
        "Effective date",
        default=program_today,
        validators=[DataRequired(message="Give the date the version takes effect (YYYY-MM-DD).")],
        description="Once it is in effect, patients must acknowledge this version before their "
        "next dispensing. It cannot take effect before the newest version already published.",
    )
    file = FileField(
        "File",
        validators=[
            FileRequired(message="Upload the document: a PDF or a text file."),
            FileSize(max_size=MAX_DOCUMENT_BYTES, message="The file is larger than 10 MB."),
        ],
        description="A PDF, or a UTF-8 text file (.txt, .text or .md); at most 10 MB. The file "
        "is stored exactly as uploaded, with its SHA-256.",
        render_kw={"accept": ".pdf,.txt,.text,.md,application/pdf,text/plain"},
    )
