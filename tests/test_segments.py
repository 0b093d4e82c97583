"""SMS segments are counted as carriers bill them: GSM-7, or UCS-2 from one character outside it."""

import pytest

from bot.catalogue import segments as count_segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("é" * 160, 1),  # é is in the GSM-7 basic set
        ("’" * 70, 1),  # a curly apostrophe switches to UCS-2
        ("’" + "a" * 70, 2),
        ("a" * 134, 1),
        ("😀" * 35, 1),  # emoji take two UTF-16 units
        ("😀" * 36, 2),
    ],
)
def test_count_segments(text: str, segments: int) -> None:
    assert count_segments(text) == segments
