"""The outbox page's filters."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from rems.common.forms import options
from rems.notifications.models import DeliveryState


class OutboxFilterForm(FlaskForm):
    """Filter the outbox by delivery state and recipient (a GET form)."""

    class Meta:
        csrf = False

    state = SelectField(
        "Delivery state",
        choices=options(
            [("", "Every state")] + [(s.value, s.value.title()) for s in DeliveryState]
        ),
    )
    recipient = StringField("Recipient's username starts with")
