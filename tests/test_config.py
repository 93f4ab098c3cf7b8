from dataclasses import dataclass

import pytest

from unsup_core.config import ConfigError, build, describe, param, parse_assignments


@dataclass
class ExampleConfig:
    n_clusters: int = param(8, low=1, high=64, help="k")
    rate: float = param(0.1, low=0.0, high=1.0)
    mode: str = param("a", choices=("a", "b"))
    flag: bool = param(False)


def test_describe_lists_fields_with_metadata_in_order():
    specs = describe(ExampleConfig)
    assert [s.name for s in specs] == ["n_clusters", "rate", "mode", "flag"]
    assert specs[0].type == "int" and specs[0].low == 1 and specs[0].high == 64 and specs[0].help == "k"
    assert specs[2].choices == ("a", "b")


def test_build_parses_strings_into_field_types():
    config = build(ExampleConfig, {"n_clusters": "12", "rate": "0.5", "mode": "b", "flag": "true"})
    assert config == ExampleConfig(12, 0.5, "b", True)
    assert build(ExampleConfig, {"n_clusters": "3.0"}).n_clusters == 3


@pytest.mark.parametrize("overrides, message", [
    ({"k": "3"}, "unknown config key 'k'; allowed keys: n_clusters, rate, mode, flag"),
    ({"n_clusters": "0"}, "n_clusters=0 is below the minimum 1"),
    ({"rate": "2"}, "rate=2.0 is above the maximum 1.0"),
    ({"mode": "c"}, "mode='c' is not one of: a, b"),
    ({"n_clusters": "2.5"}, "n_clusters must be an integer"),
    ({"rate": "fast"}, "rate must be a number"),
    ({"rate": "nan"}, "rate must be a finite number"),
    ({"flag": "maybe"}, "flag must be true or false"),
])
def test_bad_values_are_refused_with_a_message_naming_the_key(overrides, message):
    with pytest.raises(ConfigError) as error:
        build(ExampleConfig, overrides)
    assert message in str(error.value)


def test_parse_assignments():
    assert parse_assignments(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_assignments(["novalue"])
