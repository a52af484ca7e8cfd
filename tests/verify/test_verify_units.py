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


@pytest.mark.parametrize("gold,pred,expected", [
    # area and volume: every spelling of a squared or cubed unit is that unit with its power
    (r"15\text{ cm}^2", "15 cm^2", True), ("15 cm^2", r"15 \mathrm{cm}^{2}", True), ("15 cm^2", "15 cm²", True),
    ("15 cm^2", "15 square centimeters", True), ("15 cm^2", "15 sq cm", True), ("20 ft^2", "20 square feet", True),
    ("20 ft^2", "20 sq ft", True), ("20 ft^2", "20 sq. ft.", True), ("9 m^2", "9 square meters", True),
    ("9 m^2", "9 meters squared", True), ("8 cm^3", "8 cubic centimeters", True), ("8 units^3", "8 cubic units", True),
    ("12 in^2", "12 square inches", True), ("12 square units", "12 units^2", True), ("12 sq units", r"12\text{ square units}", True),
    ("36", r"36\text{ cm}^2", True), ("8", "8 cubic feet", True), (r"27\text{ m}^3", "27", True),
    # two different units are not equal, whatever the spelling
    ("15 cm", "15 cm^2", False), ("5 m^2", "5 m^3", False), ("5 m^2", "5 cubic meters", False),
    ("12 square units", "12 units", False), ("20 ft^2", "20 ft", False), ("20 square feet", "20 square inches", False),
    ("20 ft^2", "21 square feet", False), ("12 in^2", "12 in", False), ("9 m^2", "9 cm^2", False),
    ("8 cubic units", "8 square units", False),
])
def test_area_and_volume_units(gold, pred, expected):
    assert verify(rf"The result is $\boxed{{{pred}}}$.", gold) is expected
