"""How each `make eval` table ends: its targets, met or not, and its floors, held or fallen."""


def verdict(targets: dict[str, bool], floors: dict[str, bool]) -> bool:
    """Print each target and floor with its outcome; False when a floor fell."""
    print()
    for label, ok in targets.items():
        print(("met     " if ok else "NOT MET ") + label)
    for label, ok in floors.items():
        print(("held    " if ok else "FELL    ") + label)
    return all(floors.values())
