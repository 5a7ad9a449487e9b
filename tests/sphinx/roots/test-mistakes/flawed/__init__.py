"""Flows with mistakes in them, and pages that ask for them wrongly."""
