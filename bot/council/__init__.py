"""Broadcasts and reports."""
