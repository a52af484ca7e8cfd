"""Units: the same number with a different unit is not equal; a unit on one side only is ignored."""

import pytest

from rewards.answers.engine import verify


@pytest.mark.parametrize("gold,pred,expected", [
    ("3 cm", "3 m", False), (r"3\text{ m}", r"3\text{ cm}", False), (r"3\text{ m}", "3 m", True), ("3 cm", "3", True),
    ("3", r"3\,\text{cm}", True), ("5 km", "5 m", False), ("12 inches", "12 feet", False), ("45 minutes", "45 min", True),
    ("45 minutes", "45 hours", False), (r"20\text{ kg}", r"20\text{ g}", False), (r"20\text{ kg}", r"20\mathrm{kg}", True),
    (r"15\text{ cm}^2", r"15\text{ cm}^2", True), (r"15\text{ cm}^2", r"15\text{ cm}", False), ("2.5 liters", "2.5 L", True),
    ("156", r"156 \text{ apples}", True), ("156", "156 apples", True), ("156", r"157 \text{ apples}", False),
    (r"156\text{ apples}", r"156\text{ pears}", False), ("20", "20 dollars", True), (r"\$20", "20 dollars", True),
])
def test_units(gold, pred, expected):
    assert verify(rf"The result is $\boxed{{{pred}}}$.", gold) is expected
