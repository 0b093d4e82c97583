"""CarerText: the carer's world (no Flask here)."""
