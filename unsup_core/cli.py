"""``python -m unsup_core``: the same datasets, algorithms and runs as the dashboard, headless.

Exit codes: 0 success (a run that ended ``done``), 1 a run that failed, was cancelled or was
interrupted, 2 bad arguments (unknown algorithm, dataset or config key, value out of range).
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
import time

from unsup_core.identity import OPERATOR  # the CLI is the person at the server's shell: runs are theirs

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_ARGS = 0, 1, 2


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, default=_json_default))


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _format_time(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else "-"


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _format_value(value: float) -> str:
    return f"{value:.4g}"


# -- commands ------------------------------------------------------------------------------------
def cmd_datasets(args) -> int:
    from unsup_core.datasets import list_datasets

    entries = [entry.summary() for entry in list_datasets()]
    if args.json:
        _print_json(entries)
        return EXIT_OK
    print(f"{'name':<15} {'kind':<9} {'samples':>8} {'features':>8}  labels  description")
    for entry in entries:
        print(f"{entry['name']:<15} {entry['kind']:<9} {entry['n_samples'] or '-':>8} "
              f"{entry['n_features'] or '-':>8}  {'yes' if entry['has_labels'] else 'no':<6}  {entry['description']}")
    return EXIT_OK


def cmd_algorithms(args) -> int:
    from unsup_core.algorithms import list_algorithms

    described = [cls.describe() for cls in list_algorithms()]
    if args.json:
        _print_json(described)
        return EXIT_OK
    for algorithm in described:
        print(f"{algorithm['name']}  ({algorithm['family']}; accepts {', '.join(algorithm['accepts'])}; "
              f"default steps {algorithm['default_steps']})")
        print(f"    {algorithm['summary']}")
        for field in algorithm["config"]:
            limits = (f" one of {', '.join(map(str, field['choices']))}" if field["choices"]
                      else f" in [{field['low']}, {field['high']}]" if field["low"] is not None else "")
            print(f"    --set {field['name']}={field['default']}  ({field['type']}{limits})")
    return EXIT_OK


def _show_payload(store, run_id: str) -> dict:
    payload = store.get_run(run_id).as_dict()
    payload["metrics"] = store.last_metrics(run_id)
    return payload


def _print_show(payload: dict) -> None:
    for key in ("id", "algorithm", "dataset", "status", "device_label", "step", "steps"):
        print(f"{key}: {payload[key]}")
    print(f"started: {_format_time(payload['started_at'])}  duration: {_format_duration(payload['duration'])}")
    print("config: " + ", ".join(f"{k}={v}" for k, v in payload["config"].items()))
    if payload["metrics"]:
        print("metrics: " + ", ".join(f"{k}={_format_value(v)}" for k, v in sorted(payload["metrics"].items())))
    if payload["error"]:
        print(f"error: {payload['error']}")


def _writable_store():
    """The run store, for a command that changes it; a read-only one is refused in one sentence."""
    from unsup_core.errors import UserError
    from unsup_core.runs.store import RunStore

    store = RunStore()
    if store.read_only:
        raise UserError(f"the run store at {store.home} is read-only; to start, import, cancel, delete or resume "
                        "runs, set UNSUP_LAB_HOME to a folder you can write to")
    return store


def _exit_for(status: str) -> int:
    return EXIT_OK if status == "done" else EXIT_RUN_FAILED


def _dataset_argument(args) -> tuple[str, dict]:
    """A built-in dataset name, or a file (copied into the lab's store so the run can be repeated)."""
    from pathlib import Path

    from unsup_core import config as config_lib
    from unsup_core.datasets import DatasetError, get_entry

    options = config_lib.parse_assignments(getattr(args, "dataset_option", []))
    file_options = {key: value for key, value in (("features", args.features), ("label", args.label)) if value}
    path = Path(args.dataset)
    if not path.exists():
        entry = get_entry(args.dataset)
        if not entry.listed:
            raise DatasetError(f"give a file with --dataset FILE rather than the name {args.dataset!r}")
        if file_options:
            raise config_lib.ConfigError("--features and --label choose columns of a file; "
                                         f"{args.dataset} is a built-in dataset")
        return args.dataset, options
    from unsup_core.datasets.file_dataset import open_file
    from unsup_core.datasets.prepare import default_features
    from unsup_core.datasets.uploads import import_file
    from unsup_core.runs.store import RunStore

    stored = import_file(path)
    RunStore().record_upload(stored, OPERATOR)
    options = {**options, **file_options, "path": str(stored)}
    if not options.get("features"):  # spelled out, so the run records exactly which columns it used
        loaded = open_file(options)
        options["features"] = [] if loaded.images is not None else default_features(loaded, options.get("label", ""))
    return "file", options


def cmd_run(args) -> int:
    from unsup_core import config as config_lib
    from unsup_core.runs.executor import make_executor
    from unsup_core.runs.spec import make_spec

    overrides = config_lib.parse_assignments(args.set)
    store = _writable_store()
    dataset, dataset_options = _dataset_argument(args)
    spec = make_spec(args.algorithm, dataset, overrides, steps=args.steps, seed=args.seed,
                     device=args.device, dataset_options=dataset_options)
    executor = make_executor(store, watch_parent=args.wait)
    handle = executor.submit(spec, owner=OPERATOR)
    if not args.wait:
        if args.json:
            _print_json({"id": handle.run_id})
        else:
            print(handle.run_id)
        return EXIT_OK
    return _wait_and_show(store, executor, handle, args.json)


def _wait_and_show(store, executor, handle, as_json: bool) -> int:
    from unsup_core.runs.executor import cancel_and_wait

    try:
        handle.wait()
    except KeyboardInterrupt:
        cancel_and_wait(store, handle.run_id)
    executor.reap()
    payload = _show_payload(store, handle.run_id)
    _print_json(payload) if as_json else _print_show(payload)
    return _exit_for(payload["status"])


def cmd_resume(args) -> int:
    from unsup_core.runs.executor import make_executor

    store = _writable_store()
    store.reconcile()
    executor = make_executor(store, watch_parent=args.wait)
    handle = executor.resume(args.run_id, steps=args.steps)
    if not args.wait:
        _print_json({"id": handle.run_id}) if args.json else print(handle.run_id)
        return EXIT_OK
    return _wait_and_show(store, executor, handle, args.json)


def cmd_export(args) -> int:
    """A zip of the whole run (default), or with --labels the data's rows with the run's results."""
    if args.labels:
        return _export_labels(args)
    if args.with_run:
        from unsup_core.errors import UserError

        raise UserError("--with adds another run's results to a --labels export; give --labels FILE too")
    from unsup_core.runs.archive import export_run
    from unsup_core.runs.store import RunStore

    target = args.zip or f"{args.run_id}.zip"
    export_run(RunStore(), args.run_id, target)
    print(target)
    return EXIT_OK


def cmd_import(args) -> int:
    from unsup_core.runs.archive import import_run

    run_id = import_run(_writable_store(), args.archive, owner=OPERATOR)
    _print_json({"id": run_id}) if args.json else print(run_id)
    return EXIT_OK


def cmd_delete(args) -> int:
    from unsup_core.runs.executor import cancel_and_wait
    from unsup_core.runs.store import ACTIVE_STATUSES

    if not args.yes:
        print(f"error: deleting {args.run_id} removes its metrics and artifacts; add --yes to confirm",
              file=sys.stderr)
        return EXIT_BAD_ARGS
    store = _writable_store()
    if store.get_run(args.run_id).status in ACTIVE_STATUSES:
        cancel_and_wait(store, args.run_id)
    store.delete_run(args.run_id)
    print(f"deleted {args.run_id}")
    return EXIT_OK


def cmd_show(args) -> int:
    from unsup_core.runs.store import RunStore

    store = RunStore()
    if not store.read_only:  # marking dead runs is a write; a read-only store is shown as it is
        store.reconcile()
    payload = _show_payload(store, args.run_id)
    _print_json(payload) if args.json else _print_show(payload)
    return EXIT_OK


def cmd_list(args) -> int:
    from unsup_core.datasets import dataset_label
    from unsup_core.runs.store import RunStore

    store = RunStore()
    if not store.read_only:
        store.reconcile()
    runs = store.list_runs()
    if args.json:
        _print_json([{**run.as_dict(), "metrics": store.last_metrics(run.id)} for run in runs])
        return EXIT_OK
    print(f"{'id':<23} {'status':<11} {'algorithm':<10} {'dataset':<14} {'started':<19} {'duration':>8} "
          f"{'progress':>13}  last metrics")
    for run in runs:
        metrics = ", ".join(f"{k}={_format_value(v)}" for k, v in sorted(store.last_metrics(run.id).items())[:3])
        dataset = dataset_label(run.dataset, run.spec.dataset_options)
        print(f"{run.id:<23} {run.status:<11} {run.algorithm:<10} {dataset:<14} "
              f"{_format_time(run.started_at):<19} {_format_duration(run.duration):>8} "
              f"{f'{run.step}/{run.steps}':>13}  {metrics}")
    return EXIT_OK


def cmd_inspect(args) -> int:
    from unsup_core.datasets.files import read_file

    loaded = read_file(args.file)
    preview = loaded.table.head(args.rows)
    if args.json:
        records = json.loads(preview.to_json(orient="records"))
        _print_json({**loaded.report.as_dict(), "preview": records})
        return EXIT_OK
    print("\n".join(loaded.report.summary_lines()))
    if not preview.columns.empty:
        print(f"\nfirst {len(preview)} rows:")
        print(preview.to_string(index=False, max_colwidth=30))
    return EXIT_OK


def cmd_suggest(args) -> int:
    """The clustering tournament in the foreground: its leaderboard and a recommendation ``run`` repeats."""
    from unsup_core import config as config_lib
    from unsup_core.algorithms import get_algorithm
    from unsup_core.analysis.tournament import Tournament
    from unsup_core.analysis.tournament_table import recommended_options, tournament_options
    from unsup_core.datasets import load_dataset
    from unsup_core.runs.worker import limit_threads

    limit_threads()
    dataset, options = _dataset_argument(args)
    settings = get_algorithm("tournament").build_config(config_lib.parse_assignments(args.set))
    is_file = dataset == "file"
    if is_file:
        options = tournament_options(options, options["features"])
    data = load_dataset(dataset, **options)
    names = list(data.feature_names) or [f"x{j + 1}" for j in range(data.n_features)]
    tournament = Tournament(data.X, names, k_max=settings.k_max, sample_rows=settings.sample_rows, seed=args.seed,
                            loggable=["=" not in name for name in names], standard_only=not is_file)
    while not tournament.finished:
        done = tournament.play_round()
        if not args.json:
            print(f"round {tournament.rounds_done}/{tournament.n_rounds}: {done}", file=sys.stderr)
    result = tournament.result()
    summary = result.as_dict()
    recommendation = summary["recommendation"]
    if is_file:
        recommendation["dataset_options"] = recommended_options(result, {k: v for k, v in options.items()})
    else:
        recommendation["dataset_options"] = options
        recommendation["config"]["scaling"] = "standard"
    recommendation["dataset"] = dataset
    if args.json:
        _print_json(summary)
        return EXIT_OK
    print(f"{'rank':>4}  {'candidate':<56} {'silhouette':>10} {'CH':>9} {'DB':>6} {'ICL':>10} {'stability':>9}")
    for position, candidate in enumerate(summary["leaderboard"][:10], start=1):
        scores = candidate["scores"]
        print(f"{position:>4}  {candidate['title']:<56} {scores.get('silhouette', float('nan')):>10.3f} "
              f"{scores.get('calinski_harabasz', float('nan')):>9.1f} {scores.get('davies_bouldin', float('nan')):>6.2f} "
              f"{scores.get('icl', float('nan')):>10.1f} {scores.get('stability', float('nan')):>9.2f}")
    print(f"\nrecommended: {recommendation['title']}")
    print(recommendation["reason"])
    return EXIT_OK


def _export_labels(args) -> int:
    from pathlib import Path

    from unsup_core.analysis.export import labelled_rows, row_outputs, source_table, table_bytes
    from unsup_core.errors import UserError
    from unsup_core.runs.store import RunStore

    target = Path(args.labels)
    file_format = target.suffix.lower().lstrip(".")
    if file_format not in ("csv", "parquet"):
        raise UserError(f"--labels must end in .csv or .parquet, got {target.name!r}")
    store = RunStore()
    runs = [store.get_run(run_id) for run_id in [args.run_id, *args.with_run]]
    first = runs[0].spec
    outputs = []
    for run in runs:
        if (run.spec.dataset, run.spec.dataset_options) != (first.dataset, first.dataset_options):
            raise UserError(f"run {run.id} is on different data than {runs[0].id}; export runs on the same data")
        latest = store.load_snapshot(run.id)
        arrays = row_outputs(latest[1]) if latest else {}
        if not arrays:
            raise UserError(f"run {run.id} ({run.algorithm}, {run.status}) has no per-row results to export")
        outputs.append(arrays)
    table, source_rows = source_table(first.dataset, first.dataset_options)
    labelled = labelled_rows(table, source_rows, outputs)
    target.write_bytes(table_bytes(labelled, file_format))
    added = [column for column in labelled.columns if column not in table.columns]
    print(f"wrote {len(labelled):,} rows with {', '.join(added)} to {target}")
    return EXIT_OK


def cmd_teacher_link(args) -> int:
    """Print a one-time link that turns on teacher mode (for a class server whose login is locked out)."""
    token = _writable_store().issue_teacher_link(minutes=args.minutes)
    print(f"Open the dashboard with ?teacher={token} added to its address, e.g.\n"
          f"  http://SERVER:8501/?teacher={token}\n"
          f"It works once, in the first browser that opens it, within {args.minutes:g} minutes.")
    return EXIT_OK


def cmd_cancel(args) -> int:
    from unsup_core.runs.executor import cancel_and_wait, make_executor

    store = _writable_store()
    if store.get_run(args.run_id).ray_job is not None:
        make_executor(store).cancel(args.run_id)  # stops its Ray job, wherever it trains
    run = cancel_and_wait(store, args.run_id)
    print(f"{run.id}: {run.status}")
    return EXIT_OK


def cmd_pause(args) -> int:
    """``pause`` and ``play``."""
    store = _writable_store()
    if args.command == "pause":
        store.request_pause(args.run_id)
        print(f"{args.run_id}: paused (it holds at its next step boundary and keeps its device slot)")
    else:
        store.request_play(args.run_id)
        print(f"{args.run_id}: playing")
    return EXIT_OK


def cmd_step(args) -> int:
    store = _writable_store()
    target = store.request_steps(args.run_id, args.steps)
    print(f"{args.run_id}: trains on to step {target:,}, then holds")
    return EXIT_OK


def cmd_set(args) -> int:
    from unsup_core.config import parse_assignments

    store = _writable_store()
    for name, value in parse_assignments(args.assignments).items():
        checked = store.set_hyperparameter(args.run_id, name, value)
        print(f"{args.run_id}: {name}={checked:g} from its next step")
    return EXIT_OK


# -- parser --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m unsup_core", description="Unsupervised Lab, headless.")
    commands = parser.add_subparsers(dest="command", required=True)

    datasets = commands.add_parser("datasets", help="list built-in datasets")
    datasets.add_argument("--json", action="store_true")
    datasets.set_defaults(handler=cmd_datasets)

    algorithms = commands.add_parser("algorithms", help="list algorithms and their config fields")
    algorithms.add_argument("--json", action="store_true")
    algorithms.set_defaults(handler=cmd_algorithms)

    inspect = commands.add_parser("inspect", help="read a file and say what was read and assumed")
    inspect.add_argument("file")
    inspect.add_argument("--rows", type=int, default=5, help="rows to preview")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=cmd_inspect)

    run = commands.add_parser("run", help="start a run (in a background worker)")
    run.add_argument("algorithm")
    run.add_argument("--dataset", required=True, help="a built-in dataset's name, or a file")
    run.add_argument("--features", default="", help="for a file: feature columns, comma-separated (default: all "
                                                     "numeric and categorical columns)")
    run.add_argument("--label", default="", help="for a file: a label column, only for colouring and ARI/NMI")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config value")
    run.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                     help="dataset option, e.g. n_samples=2000")
    run.add_argument("--steps", type=int, default=None)
    run.add_argument("--seed", default=0, help="0 to 2**32-1 (checked with the rest of the run)")
    run.add_argument("--device", default="auto", help="auto, cpu or cuda")
    run.add_argument("--wait", action="store_true", help="block until the run ends, then show it")
    run.add_argument("--json", action="store_true")
    run.set_defaults(handler=cmd_run)

    show = commands.add_parser("show", help="show one run")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    listing = commands.add_parser("list", help="list runs, newest first")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)

    suggest = commands.add_parser("suggest", help="choose for me: a clustering tournament (algorithms x k x "
                                                   "preparations) and its recommendation")
    suggest.add_argument("dataset", help="a file, or a built-in dataset's name")
    suggest.add_argument("--features", default="")
    suggest.add_argument("--label", default="")
    suggest.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                         help="preparation, e.g. scaling=robust or missing=drop")
    suggest.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="e.g. k_max=10")
    suggest.add_argument("--seed", type=int, default=0)
    suggest.add_argument("--json", action="store_true")
    suggest.set_defaults(handler=cmd_suggest)

    export = commands.add_parser("export", help="write a run (config, metrics, artifacts, checkpoint) as a zip, "
                                                "or with --labels its per-row results as a table")
    export.add_argument("run_id")
    export.add_argument("--zip", default=None, metavar="PATH", help="where to write the zip (default RUN_ID.zip)")
    export.add_argument("--labels", metavar="FILE", help="the data's rows with the run's per-row results "
                                                         "(cluster, outlier score, embedding), as .csv or .parquet")
    export.add_argument("--with", dest="with_run", action="append", default=[], metavar="RUN_ID",
                        help="add another run's per-row results (an embedding or outlier run on the same data)")
    export.set_defaults(handler=cmd_export)

    cancel = commands.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id")
    cancel.set_defaults(handler=cmd_cancel)

    for name, text in (("pause", "hold a running run at its next step boundary (it keeps its device slot)"),
                       ("play", "let a paused run train on")):
        control = commands.add_parser(name, help=text)
        control.add_argument("run_id")
        control.set_defaults(handler=cmd_pause)
    step = commands.add_parser("step", help="train on N steps past where it holds (or past the step it was "
                                               "already asked to reach), then hold")
    step.add_argument("run_id")
    step.add_argument("steps", nargs="?", type=int, default=1, metavar="N", help="steps to take (default 1)")
    step.set_defaults(handler=cmd_step)
    setter = commands.add_parser("set", help="change a hyperparameter while it trains, e.g. lr=0.0003 "
                                             "(GANs: lr_generator=..., lr_discriminator=... or lr_critic=...)")
    setter.add_argument("run_id")
    setter.add_argument("assignments", nargs="+", metavar="NAME=VALUE")
    setter.set_defaults(handler=cmd_set)

    resume = commands.add_parser("resume", help="continue an ended run from its last checkpoint")
    resume.add_argument("run_id")
    resume.add_argument("--steps", type=int, default=None, help="new total steps (to train a done run further)")
    resume.add_argument("--wait", action="store_true")
    resume.add_argument("--json", action="store_true")
    resume.set_defaults(handler=cmd_resume)

    importer = commands.add_parser("import", help="add a run from a zip made by export")
    importer.add_argument("archive")
    importer.add_argument("--json", action="store_true")
    importer.set_defaults(handler=cmd_import)

    teacher = commands.add_parser("teacher-link", help="print a one-time link that turns on teacher mode")
    teacher.add_argument("--minutes", type=float, default=10.0, help="how long the link stays valid")
    teacher.set_defaults(handler=cmd_teacher_link)

    delete = commands.add_parser("delete", help="delete a run and its artifacts")
    delete.add_argument("run_id")
    delete.add_argument("--yes", action="store_true", help="confirm")
    delete.set_defaults(handler=cmd_delete)
    return parser


def _system_error_message(error: Exception) -> str:
    """One sentence for a failure of the disk or the store rather than of the arguments."""
    from unsup_core.paths import data_home

    text = str(error)
    if (isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)) or "disk is full" in text:
        where = f" while writing {error.filename}" if getattr(error, "filename", None) else ""
        return f"disk full: no space left on device{where}; free some space and try again"
    if not isinstance(error, OSError):
        if "readonly" in text:
            return f"the run store at {data_home()} is read-only; set UNSUP_LAB_HOME to a folder you can write to"
        return f"the run store at {data_home()} cannot be used ({text}); try again, or check the folder"
    where = error.filename or "a file"
    if error.errno == errno.EROFS:
        return f"cannot write {where}: the file system is read-only; choose a folder you can write to"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied for {where}; check its permissions or choose another folder"
    return f"{error.strerror or text}" + (f": {error.filename}" if error.filename else "")


def _database_errors() -> tuple[type[BaseException], ...]:
    from unsup_core.runs.backends import database_errors

    return database_errors()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from unsup_core.errors import UserError

    try:
        return args.handler(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
    except (OSError, *_database_errors()) as error:
        print(f"error: {_system_error_message(error)}", file=sys.stderr)
    return EXIT_BAD_ARGS


if __name__ == "__main__":
    sys.exit(main())
