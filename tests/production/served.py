"""The app as gunicorn serves it in the production tests, on the clock the test froze
(REMS_TEST_CLOCK, ISO 8601): the served app never reads the machine's date either."""

from __future__ import annotations

import os
from datetime import datetime

from rems import create_app
from rems.common.clock import FrozenClock

app = create_app()
app.extensions["rems_clock"] = FrozenClock(datetime.fromisoformat(os.environ["REMS_TEST_CLOCK"]))
