"""Abnormal-result alerts: raised by the program file's rules with the result, acknowledged by
the prescriber or a delegate with an action note, escalated to administrators when not."""
