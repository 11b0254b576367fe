"""Demo data for trying the system: accounts of every role, certified and uncertified parties,
patients in every state, and the gate in use. rems.demo.command is `flask rems demo`."""
