"""`make eval`: print how well CarerText understands carers, on the held-out sets; exit 1 under target."""

from __future__ import annotations

import sys

from bench.eval import safeguarding


def main() -> int:
    from bot.duty.safeguarding import screen

    print("== safeguarding screen (held-out)\n")
    ok = safeguarding.run(screen)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
