"""A Train form's whole setup as query parameters, so a link opens exactly that setup.

    ?dataset=moons&algorithm=kmeans&n_clusters=2&data.noise=0.06&steps=50&seed=0&hide=n_clusters,seed

``dataset``, ``algorithm``, ``steps``, ``seed`` and ``device`` name the run; every other plain key is a
config field of the algorithm, ``data.<option>`` a dataset option. ``hide`` and ``fix`` list controls
(those same names) that the form leaves out or shows disabled, for a lesson. Every value read from a
link is untrusted: it is checked with the code that checks a run (``config.parse_allowed`` / ``build``,
the registry's ``coerce_options``, ``make_spec``), and what does not pass is left at its default with
one sentence saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping
from urllib.parse import urlencode

from unsup_core import config as config_lib
from unsup_core.device import DEVICE_CHOICES, DeviceError
from unsup_core.errors import UserError

RUN_KEYS = ("dataset", "algorithm", "steps", "seed", "device")
CONTROL_LIST_KEYS = ("hide", "fix")
DATA_PREFIX = "data."
# Streamlit's own parameters (embedding the app in a page) are not part of a form.
IGNORED_KEYS = ("embed", "embed_options")
MAX_PARAMS = 64
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 512  # a hide list of every control of the largest form fits
MAX_PROBLEMS_SHOWN = 3
_READABLE = re.compile(r"[A-Za-z0-9_.+-]{1,40}")  # shown back to the user; anything else is not echoed


def _steps_field() -> config_lib.FieldSpec:
    from unsup_core.runs.spec import MAX_STEPS

    return config_lib.FieldSpec("steps", "int", 1, 1, MAX_STEPS, 1, None, False, "Training steps.")


@dataclass(frozen=True)
class FormLink:
    """A validated Train setup. ``config`` and ``dataset_options`` hold only the values the link sets;
    ``steps`` None means the algorithm's default."""

    dataset: str
    algorithm: str
    config: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    seed: int = 0
    device: str = "auto"
    hidden: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()

    def spec(self):
        """The run this link starts, through the same validation as every run."""
        from unsup_core.runs.spec import make_spec

        return make_spec(self.algorithm, self.dataset, self.config, steps=self.steps, seed=self.seed,
                         device=self.device, dataset_options=self.dataset_options)

    def is_locked(self, control: str) -> bool:
        """Hidden or fixed: the form does not let the user change this control."""
        return control in self.hidden or control in self.fixed


@dataclass(frozen=True)
class DecodedLink:
    """What a query string gave: a setup (None: no usable link) and one sentence about what was dropped."""

    link: FormLink | None
    problem: str | None = None


def _shown(text: str) -> str:
    """A name or value from the link, echoed only when it is short plain text (never markup)."""
    return f"`{text}`" if _READABLE.fullmatch(text) else "an unreadable value"


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def encode(link: FormLink) -> dict[str, str]:
    """Query parameters for ``link`` (run keys first, then config, then dataset options)."""
    params = {"dataset": link.dataset, "algorithm": link.algorithm}
    params.update({name: _value_text(value) for name, value in link.config.items()})
    params.update({DATA_PREFIX + name: _value_text(value) for name, value in link.dataset_options.items()})
    if link.steps is not None:
        params["steps"] = str(link.steps)
    params["seed"] = str(link.seed)
    if link.device != "auto":
        params["device"] = link.device
    if link.hidden:
        params["hide"] = ",".join(link.hidden)
    if link.fixed:
        params["fix"] = ",".join(link.fixed)
    return params


def without_defaults(link: FormLink) -> FormLink:
    """``link`` keeping only the config values and dataset options that differ from their defaults."""
    from unsup_core.algorithms import get_algorithm
    from unsup_core.datasets import get_entry

    config_defaults = {spec.name: spec.default for spec in config_lib.describe(get_algorithm(link.algorithm).Config)}
    option_defaults = get_entry(link.dataset).defaults
    return replace(link,
                   config={name: value for name, value in link.config.items() if value != config_defaults.get(name)},
                   dataset_options={name: value for name, value in link.dataset_options.items()
                                    if value != option_defaults.get(name)})


def link_url(base_url: str, link: FormLink) -> str:
    """``base_url`` (the Train page's address, without a query) with ``link``'s parameters."""
    return f"{base_url.split('?', 1)[0]}?{urlencode(encode(link), safe=',')}"


def controls(algorithm: str, dataset: str) -> list[str]:
    """Every name ``hide`` and ``fix`` accept for this pair, in form order."""
    from unsup_core.algorithms import get_algorithm
    from unsup_core.datasets import get_entry

    fields = [spec.name for spec in config_lib.describe(get_algorithm(algorithm).Config)]
    options = [DATA_PREFIX + name for name in _settable_options(get_entry(dataset))]
    return ["dataset", *options, "algorithm", *fields, "steps", "seed", "device"]


def _settable_options(entry) -> list[str]:
    # Server paths and downloads never come from a link (they are local-only), nor do column lists.
    return [name for name, option in entry.options.items()
            if not option.local_only and option.field(name).type != "list"]


def _last(value: str | list[str]) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def decode(params: Mapping[str, str | list[str]]) -> DecodedLink:
    """Read a Train setup from query parameters; never raises on any input.

    Unknown keys and bad values are dropped (left at their defaults) and named in ``problem``; a link
    whose dataset or algorithm cannot be used gives no setup at all.
    """
    values = {str(key): value if isinstance(value, (list, tuple)) else [value] for key, value in params.items()
              if key not in IGNORED_KEYS}
    params = {key: _last(given) for key, given in values.items()}
    if not params:
        return DecodedLink(None)
    too_long = "This link is too long to be a Train setup, so the form shows its defaults."
    if len(params) > MAX_PARAMS or sum(len(given) for given in values.values()) > 4 * MAX_PARAMS:
        return DecodedLink(None, too_long)
    if any(len(key) > MAX_KEY_LENGTH or len(str(value)) > MAX_VALUE_LENGTH
           for key, given in values.items() for value in given):
        return DecodedLink(None, too_long)
    try:
        decoded = _decode(params)
    except UserError as error:  # the whole setup fails the run's own checks
        return DecodedLink(None, f"This link's setup cannot run ({error}), so the form shows its defaults.")
    # A key given twice with different values (often a link edited by hand) keeps the last, as a
    # browser's form would, and is named so the user knows the others were not used.
    repeated = [_shown(key) for key, given in values.items() if len({str(value) for value in given}) > 1]
    if decoded.link is None or not repeated:
        return decoded
    note = f"This link gives {', '.join(repeated[:MAX_PROBLEMS_SHOWN])} more than once: the last value is used."
    return replace(decoded, problem=f"{decoded.problem} {note}" if decoded.problem else note)


def _decode(params: dict[str, str]) -> DecodedLink:
    from unsup_core.algorithms import list_algorithms
    from unsup_core.datasets import list_datasets

    entries = {entry.name: entry for entry in list_datasets()}
    dataset = params.pop("dataset", "")
    if dataset not in entries:
        named = f" ({_shown(dataset)})" if dataset else ""
        return DecodedLink(None, f"This link names no built-in dataset{named}, so the form shows its defaults.")
    entry = entries[dataset]
    algorithms = {cls.name: cls for cls in list_algorithms(kind=entry.kind)}
    algorithm = params.pop("algorithm", "")
    if algorithm not in algorithms:
        named = f" ({_shown(algorithm)})" if algorithm else ""
        return DecodedLink(None, f"This link names no algorithm that takes the {dataset} dataset{named}, "
                                 "so the form shows its defaults.")
    problems: list[str] = []
    link = FormLink(dataset, algorithm,
                    config=_config_values(algorithms[algorithm], params, problems),
                    dataset_options=_option_values(entry, params, problems),
                    steps=_parsed(_steps_field(), params.pop("steps", None), problems),
                    seed=_parsed(_seed_field(), params.pop("seed", None), problems, default=0),
                    device=_device(params.pop("device", None), problems))
    known = controls(algorithm, dataset)
    hidden = _control_list(params.pop("hide", None), known, problems)
    fixed = [name for name in _control_list(params.pop("fix", None), known, problems) if name not in hidden]
    link = replace(link, hidden=tuple(hidden), fixed=tuple(fixed))
    problems.extend(f"unknown setting {_shown(key)}" for key in params)
    link = _runnable(link, problems)
    return DecodedLink(link, _sentence(problems))


def _seed_field() -> config_lib.FieldSpec:
    from unsup_core.runs.spec import SEED

    return SEED


def _parsed(spec: config_lib.FieldSpec, raw: str | None, problems: list[str], default: Any = None) -> Any:
    if raw is None:
        return default
    try:
        return config_lib.parse_allowed(spec, raw)
    except config_lib.ConfigError:
        problems.append(f"{spec.name}={_shown(raw)} (give {spec.allowed()})")
        return default


def _config_values(algorithm_cls: type, params: dict[str, str], problems: list[str]) -> dict[str, Any]:
    specs = {spec.name: spec for spec in config_lib.describe(algorithm_cls.Config)}
    values = {}
    for name in [key for key in params if key in specs and key not in RUN_KEYS + CONTROL_LIST_KEYS]:
        value = _parsed(specs[name], params.pop(name), problems)
        if value is not None:
            values[name] = value
    return values


def _option_values(entry, params: dict[str, str], problems: list[str]) -> dict[str, Any]:
    from unsup_core.datasets import coerce_options

    settable = _settable_options(entry)
    values = {}
    for key in [key for key in params if key.startswith(DATA_PREFIX)]:
        name, raw = key[len(DATA_PREFIX):], params.pop(key)
        if name not in settable:
            problems.append(f"unknown dataset option {_shown(key)}")
            continue
        try:
            values.update(coerce_options(entry, {name: raw}))
        except config_lib.ConfigError:
            problems.append(f"{key}={_shown(raw)} (give {entry.options[name].field(name).allowed()})")
    return values


def _device(raw: str | None, problems: list[str]) -> str:
    if raw is None or raw in DEVICE_CHOICES:
        return raw or "auto"
    problems.append(f"device={_shown(raw)} (give one of {', '.join(DEVICE_CHOICES)})")
    return "auto"


def _control_list(raw: str | None, known: list[str], problems: list[str]) -> list[str]:
    names = []
    for name in (raw or "").split(","):
        name = name.strip()
        if name in known and name not in names:
            names.append(name)
        elif name and name not in known:
            problems.append(f"no control named {_shown(name)} to hide or fix")
    return names


def _runnable(link: FormLink, problems: list[str]) -> FormLink:
    """The link as ``make_spec`` accepts it: a device this machine lacks falls back to auto."""
    try:
        link.spec()
    except DeviceError:
        problems.append(f"device={link.device} (this machine has no such device)")
        link = replace(link, device="auto")
        link.spec()
    return link


def _sentence(problems: list[str]) -> str | None:
    if not problems:
        return None
    listed = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        listed += f"; and {more} more"
    return f"Some of this link's values were left at their defaults: {listed}."
