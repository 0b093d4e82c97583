"""Safeguarding, handoff, staff, worksheet, the assessment record and exports."""
