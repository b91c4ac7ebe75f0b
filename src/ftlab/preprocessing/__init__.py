"""ftlab.preprocessing."""
