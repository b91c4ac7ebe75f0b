"""ftlab.models."""
