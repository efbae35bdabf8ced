"""Design: construction, validation and JSON/TOML round trips."""

from __future__ import annotations

from fractions import Fraction

import pytest

from fieldexp.design import Design, Exclusion
from fieldexp.errors import DesignError, SpecificationError


def test_defaults():
    d = Design("voter_id")
    assert d.arm_labels == (0, 1)
    assert d.arm_probabilities == (Fraction(1, 2), Fraction(1, 2))
    assert d.control == 0
    assert d.treatment_arms == (1,)
    assert d.arms == {0: 0.5, 1: 0.5}


def test_frozen():
    d = Design("voter_id")
    with pytest.raises(AttributeError):
        d.unit = "x"  # type: ignore[misc]


def test_string_arms_and_control():
    d = Design("v", arms={"control": 0.5, "door": 0.25, "door+sms": 0.25}, control="door")
    assert d.control == "door"
    assert d.treatment_arms == ("control", "door+sms")


def test_thirds_are_exact():
    d = Design("v", arms={0: 1 / 3, 1: 1 / 3, 2: 1 / 3})
    assert sum(d.arm_probabilities) == 1
    assert d.arm_probabilities == (Fraction(1, 3),) * 3


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_probability_outside_unit_interval(p):
    with pytest.raises(
        DesignError, match=r"arms: every arm probability must lie strictly between 0 and 1; arm 1"
    ):
        Design("v", arms={0: 0.5, 1: p})


def test_probabilities_not_summing_to_one():
    with pytest.raises(DesignError, match=r"arms: probabilities must sum to 1; .* sums to 0.9"):
        Design("v", arms={0: 0.5, 1: 0.4})


def test_bad_labels():
    with pytest.raises(SpecificationError, match="arm labels must be strings or integers"):
        Design("v", arms={0.5: 0.5, 1: 0.5})
    with pytest.raises(SpecificationError, match="all strings or all integers"):
        Design("v", arms={0: 0.5, "a": 0.5})
    with pytest.raises(DesignError, match="control: 'x' is not one of the arms"):
        Design("v", control="x")


def test_counts_where_given_probabilities_elsewhere():
    d = Design("v", blocks="b", arms={0: 0.5, 1: 0.5}, counts={"small": {1: 1}})
    assert d.counts_for("small") == {1: 1}
    assert d.counts_for("big") is None
    assert Design.from_toml(d.to_toml()) == d


def test_counts_unknown_arm_and_negative():
    with pytest.raises(DesignError, match=r"counts: arm 2 is not one of the arms"):
        Design("v", arms=[0, 1], counts={2: 3})
    with pytest.raises(DesignError, match="non-negative integer"):
        Design("v", counts={1: -1})
    with pytest.raises(DesignError, match="at most one arm may be left out"):
        Design("v", arms=["a", "b", "c"], counts={"a": 1})


def test_same_column_for_blocks_and_clusters():
    with pytest.raises(DesignError, match="blocks and clusters are the same column"):
        Design("v", blocks="p", clusters="p")


def test_exclude_forms():
    d = Design(
        "v",
        clusters="hh",
        exclude={"max_household_size": 6, "do_not_contact": [3, 1], "flag": "dnc"},
    )
    assert d.exclude == (
        Exclusion.max_household_size(6),
        Exclusion.do_not_contact([1, 3]),
        Exclusion.flag("dnc"),
    )
    with pytest.raises(SpecificationError, match="exclude: keys must be"):
        Design("v", exclude={"nope": 1})
    with pytest.raises(SpecificationError, match="positive integer"):
        Exclusion.max_household_size(0)


DESIGNS = [
    Design("voter_id"),
    Design(
        "v",
        blocks="precinct",
        clusters="hh",
        arms={"c": 0.5, "door": 0.3, "mail": 0.2},
        control="c",
    ),
    Design("v", blocks="p", arms=[0, 1], counts={"A": {1: 3}, "B": {0: 2, 1: 2}}),
    Design("v", counts={1: 10}),
    Design(
        "v",
        clusters="hh",
        exclude=[
            Exclusion.max_household_size(8),
            Exclusion.do_not_contact(["a b", 'q"x']),
            Exclusion.flag("moved"),
        ],
    ),
    Design.factorial({"door": [0, 1], "sms": {0: 0.75, 1: 0.25}}, "v", blocks="p"),
    Design("v", arms={0: 1 / 3, 1: 1 / 3, 2: 1 / 3}),
]


@pytest.mark.parametrize("design", DESIGNS, ids=range(len(DESIGNS)))
def test_round_trips(design, tmp_path):
    assert Design.from_json(design.to_json()) == design
    assert Design.from_toml(design.to_toml()) == design
    assert Design.from_dict(design.to_dict()) == design
    design.to_toml(tmp_path / "d.toml")
    design.to_json(tmp_path / "d.json")
    assert Design.from_toml(tmp_path / "d.toml") == design
    assert Design.from_json(str(tmp_path / "d.json")) == design


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(SpecificationError, match=r"unknown keys \['armz'\]"):
        Design.from_dict({"unit": "v", "armz": []})
    with pytest.raises(SpecificationError, match="does not exist"):
        Design.from_toml("missing.toml")


def test_factorial_arms():
    d = Design.factorial({"door": [0, 1], "sms": [0, 1]}, "v")
    assert d.arm_labels == ("door=0|sms=0", "door=0|sms=1", "door=1|sms=0", "door=1|sms=1")
    assert d.control == "door=0|sms=0"
    assert all(p == Fraction(1, 4) for p in d.arm_probabilities)


def test_hand_written_toml_shorthand():
    d = Design.from_toml('unit = "v"\nblocks = "p"\n[arms]\n0 = 0.6\n1 = 0.4\n')
    assert d == Design("v", blocks="p", arms={0: 0.6, 1: 0.4})
    d = Design.from_toml('unit = "v"\ncontrol = "c"\n[arms]\nc = 0.5\ndoor = 0.5\n')
    assert d.arm_labels == ("c", "door")
    with pytest.raises(SpecificationError, match="'arms' must be a list of tables"):
        Design.from_dict({"unit": "v", "arms": [0.5, 0.5]})


def test_malformed_description_is_a_clear_error():
    with pytest.raises(SpecificationError, match="malformed description"):
        Design.from_dict({"unit": "v", "counts": [{"arm": 1}]})
    with pytest.raises(SpecificationError, match="malformed description"):
        Design.from_dict({"unit": "v", "factors": [{"levels": [0, 1]}]})
