"""ftlab.testing."""
