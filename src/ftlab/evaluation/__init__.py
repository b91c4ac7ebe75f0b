"""ftlab.evaluation."""
