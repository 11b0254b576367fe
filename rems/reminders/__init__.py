"""Daily monitoring reminders: one digest per prescriber of the items that became due or
overdue, through the notifications outbox."""
