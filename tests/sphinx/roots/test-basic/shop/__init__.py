"""A small shop whose flows the test pages draw."""
