"""ftlab.training."""
