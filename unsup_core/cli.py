"""``python -m unsup_core``: the same datasets, algorithms and runs as the dashboard, headless.

Exit codes: 0 success (a run that ended ``done``), 1 a run that failed, was cancelled or was
interrupted, 2 bad arguments (unknown algorithm, dataset or config key, value out of range).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

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


def _exit_for(status: str) -> int:
    return EXIT_OK if status == "done" else EXIT_RUN_FAILED


def cmd_run(args) -> int:
    from unsup_core import config as config_lib
    from unsup_core.runs.executor import LocalExecutor
    from unsup_core.runs.spec import make_spec
    from unsup_core.runs.store import RunStore

    overrides = config_lib.parse_assignments(args.set)
    dataset_options = config_lib.parse_assignments(args.dataset_option)
    spec = make_spec(args.algorithm, args.dataset, overrides, steps=args.steps, seed=args.seed,
                     device=args.device, dataset_options=dataset_options)
    store = RunStore()
    executor = LocalExecutor(store, watch_parent=args.wait)
    handle = executor.submit(spec, owner="cli")
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
    from unsup_core.runs.executor import LocalExecutor
    from unsup_core.runs.store import RunStore

    store = RunStore()
    store.reconcile()
    executor = LocalExecutor(store, watch_parent=args.wait)
    handle = executor.resume(args.run_id, steps=args.steps)
    if not args.wait:
        _print_json({"id": handle.run_id}) if args.json else print(handle.run_id)
        return EXIT_OK
    return _wait_and_show(store, executor, handle, args.json)


def cmd_export(args) -> int:
    from unsup_core.runs.archive import export_run
    from unsup_core.runs.store import RunStore

    target = args.zip or f"{args.run_id}.zip"
    export_run(RunStore(), args.run_id, target)
    print(target)
    return EXIT_OK


def cmd_import(args) -> int:
    from unsup_core.runs.archive import import_run
    from unsup_core.runs.store import RunStore

    run_id = import_run(RunStore(), args.archive)
    _print_json({"id": run_id}) if args.json else print(run_id)
    return EXIT_OK


def cmd_delete(args) -> int:
    from unsup_core.runs.executor import cancel_and_wait
    from unsup_core.runs.store import ACTIVE_STATUSES, RunStore

    if not args.yes:
        print(f"error: deleting {args.run_id} removes its metrics and artifacts; add --yes to confirm",
              file=sys.stderr)
        return EXIT_BAD_ARGS
    store = RunStore()
    if store.get_run(args.run_id).status in ACTIVE_STATUSES:
        cancel_and_wait(store, args.run_id)
    store.delete_run(args.run_id)
    print(f"deleted {args.run_id}")
    return EXIT_OK


def cmd_show(args) -> int:
    from unsup_core.runs.store import RunStore

    store = RunStore()
    store.reconcile()
    payload = _show_payload(store, args.run_id)
    _print_json(payload) if args.json else _print_show(payload)
    return EXIT_OK


def cmd_list(args) -> int:
    from unsup_core.runs.store import RunStore

    store = RunStore()
    store.reconcile()
    runs = store.list_runs()
    if args.json:
        _print_json([{**run.as_dict(), "metrics": store.last_metrics(run.id)} for run in runs])
        return EXIT_OK
    print(f"{'id':<23} {'status':<11} {'algorithm':<10} {'dataset':<14} {'started':<19} {'duration':>8} "
          f"{'progress':>13}  last metrics")
    for run in runs:
        metrics = ", ".join(f"{k}={_format_value(v)}" for k, v in sorted(store.last_metrics(run.id).items())[:3])
        print(f"{run.id:<23} {run.status:<11} {run.algorithm:<10} {run.dataset:<14} "
              f"{_format_time(run.started_at):<19} {_format_duration(run.duration):>8} "
              f"{f'{run.step}/{run.steps}':>13}  {metrics}")
    return EXIT_OK


def cmd_cancel(args) -> int:
    from unsup_core.runs.executor import cancel_and_wait
    from unsup_core.runs.store import RunStore

    run = cancel_and_wait(RunStore(), args.run_id)
    print(f"{run.id}: {run.status}")
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

    run = commands.add_parser("run", help="start a run (in a background worker)")
    run.add_argument("algorithm")
    run.add_argument("--dataset", required=True)
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config value")
    run.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                     help="dataset option, e.g. n_samples=2000")
    run.add_argument("--steps", type=int, default=None)
    run.add_argument("--seed", type=int, default=0)
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

    cancel = commands.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id")
    cancel.set_defaults(handler=cmd_cancel)

    resume = commands.add_parser("resume", help="continue an ended run from its last checkpoint")
    resume.add_argument("run_id")
    resume.add_argument("--steps", type=int, default=None, help="new total steps (to train a done run further)")
    resume.add_argument("--wait", action="store_true")
    resume.add_argument("--json", action="store_true")
    resume.set_defaults(handler=cmd_resume)

    export = commands.add_parser("export", help="write a run (config, metrics, artifacts, checkpoint) as a zip")
    export.add_argument("run_id")
    export.add_argument("--zip", default=None, metavar="PATH", help="where to write it (default RUN_ID.zip)")
    export.set_defaults(handler=cmd_export)

    importer = commands.add_parser("import", help="add a run from a zip made by export")
    importer.add_argument("archive")
    importer.add_argument("--json", action="store_true")
    importer.set_defaults(handler=cmd_import)

    delete = commands.add_parser("delete", help="delete a run and its artifacts")
    delete.add_argument("run_id")
    delete.add_argument("--yes", action="store_true", help="confirm")
    delete.set_defaults(handler=cmd_delete)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from unsup_core.errors import UserError

    try:
        return args.handler(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_ARGS


if __name__ == "__main__":
    sys.exit(main())
