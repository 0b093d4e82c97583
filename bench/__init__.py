"""Measurements that print tables: `python -m bench` runs all, `python -m bench NAME` one (see bench/__main__.py)."""
