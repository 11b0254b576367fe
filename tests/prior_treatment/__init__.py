"""Prior-treatment tests."""
