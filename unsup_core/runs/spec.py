"""What a run is asked to do, validated up front so bad input fails before any process starts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from unsup_core import config as config_lib

MAX_STEPS = 10_000_000
# Why a run exists: "" for a run someone asked for; HELPER for one a page starts to draw its own views
# (Your data's maps, its choose-for-me tournament, its outlier scores), which Runs lists apart.
HELPER = "helper"
PURPOSES = ("", HELPER)
# The only algorithms a page starts as helpers: any other run marked so (e.g. in an imported archive)
# would only be hiding itself from the Runs list.
HELPER_ALGORITHMS = ("embedding", "tournament", "outliers")
SEED = config_lib.FieldSpec("seed", "int", 0, 0, config_lib.MAX_SEED, 1, None, False, "Same seed, same run.")


@dataclass(frozen=True)
class RunSpec:
    """Algorithm, dataset and every setting needed to repeat the run exactly."""

    algorithm: str
    dataset: str
    config: dict
    steps: int
    seed: int = 0
    device: str = "auto"
    dataset_options: dict = field(default_factory=dict)
    purpose: str = ""  # one of PURPOSES

    @property
    def is_helper(self) -> bool:
        return self.purpose == HELPER

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def make_spec(algorithm: str, dataset: str, overrides: dict | None = None, *, steps: int | None = None,
              seed: int = 0, device: str = "auto", dataset_options: dict | None = None,
              purpose: str = "") -> RunSpec:
    """Validate names, config values, seed, kind compatibility, step count and purpose; raise UserError
    subclasses."""
    # Imported here: reading runs (list, show, cancel) must not pay for importing torch.
    from unsup_core.algorithms import get_algorithm
    from unsup_core.datasets import coerce_options, get_entry
    from unsup_core.device import resolve_device

    algorithm_cls = get_algorithm(algorithm)
    entry = get_entry(dataset)
    options = coerce_options(entry, dict(dataset_options or {}))
    config = algorithm_cls.build_config(overrides)
    steps = algorithm_cls.default_steps if steps is None else steps
    if not 1 <= steps <= MAX_STEPS:
        raise config_lib.ConfigError(f"steps must be between 1 and {MAX_STEPS}, got {steps}")
    seed = config_lib.parse_allowed(SEED, seed)
    if purpose not in PURPOSES:
        raise config_lib.ConfigError(f"purpose must be one of {', '.join(map(repr, PURPOSES))}, got {purpose!r}")
    if purpose == HELPER and algorithm not in HELPER_ALGORITHMS:
        raise config_lib.ConfigError(f"purpose {HELPER!r} is only for {', '.join(HELPER_ALGORITHMS)} runs, "
                                     f"not {algorithm}")
    resolve_device(device)  # refuses unknown names and cuda without a GPU, before anything starts
    # Last, as it may read a user's file: static for built-ins, a table or images for a file.
    kind = entry.kind_for(options)
    if kind not in algorithm_cls.accepts:
        raise config_lib.ConfigError(
            f"{algorithm} does not accept {kind} data ({dataset}); it accepts: "
            f"{', '.join(algorithm_cls.accepts)}")
    return RunSpec(algorithm, dataset, config_lib.to_dict(config), steps, seed, device, options, purpose)
