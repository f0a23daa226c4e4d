"""``humanfactors train``: fit a classifier on coded reports and save it.

Also holds the data options shared with ``humanfactors evaluate``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..io import LabelledData

HELP = "train a human-factors classifier on coded reports and save it"

_MAX_SHOWN_ERRORS = 20


# -- shared with ``evaluate`` -------------------------------------------------------
def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The DATA argument and the options that say how to read it."""
    parser.add_argument(
        "data",
        metavar="DATA",
        help="coded reports: JSONL (Incident fields + codes), CSV, or a raw ASRS DBOnline "
        "export; '-' reads JSONL from stdin",
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv", "asrs"),
        help="input format (default: from the file suffix; raw ASRS exports need 'asrs')",
    )
    parser.add_argument(
        "--text-column",
        action="append",
        metavar="NAME",
        help="CSV column holding report text; repeat to join several (default: narrative or text)",
    )
    parser.add_argument(
        "--labels-column",
        metavar="NAME",
        help="CSV column holding the codes (default: codes, labels or human_factors)",
    )
    parser.add_argument(
        "--label-sep", metavar="SEP", help="separator between codes in a CSV cell (default ';')"
    )
    parser.add_argument("--id-column", metavar="NAME", help="CSV column holding the report id")
    parser.add_argument(
        "--taxonomy",
        metavar="NAME|PATH|none",
        help="taxonomy the codes belong to: a built-in name, a TOML file, or 'none' to take "
        "the codes as they are (default: asrs for --format asrs, else safeguarding)",
    )


def check_data_arguments(args: argparse.Namespace) -> None:
    """Refuse data options that cannot work, before any file is read."""
    from ..exceptions import InputError

    if args.label_sep is not None and not args.label_sep:
        raise InputError("--label-sep must not be empty; give the separator between codes")


def data_format(args: argparse.Namespace) -> str | None:
    """The explicit format, or jsonl for stdin, or None to infer from the suffix."""
    if args.format:
        return str(args.format)
    return "jsonl" if args.data == "-" else None


def default_taxonomy(args: argparse.Namespace) -> str | None:
    """The taxonomy option as the loaders and the estimator take it (None for 'none')."""
    from ..io import infer_format

    value = args.taxonomy
    if value is None:
        return "asrs" if infer_format(args.data, data_format(args)) == "asrs" else "safeguarding"
    return None if value.lower() == "none" else str(value)


def read_data(
    args: argparse.Namespace, command: str, taxonomy: Any, err: IO[str] | None = None
) -> LabelledData:
    """Load the labelled data, print every refused record to stderr, refuse empty data."""
    from ..exceptions import InputError
    from ..io import load_labelled

    err = err or sys.stderr
    data = load_labelled(
        args.data,
        format=data_format(args),
        text_columns=args.text_column,
        labels_column=args.labels_column,
        label_sep=args.label_sep,
        taxonomy=taxonomy,
        id_column=args.id_column,
    )
    for record in data.errors[:_MAX_SHOWN_ERRORS]:
        print(f"humanfactors {command}: {data.source}: {record.error}", file=err)
    hidden = len(data.errors) - _MAX_SHOWN_ERRORS
    if hidden > 0:
        print(f"humanfactors {command}: ... and {hidden} more records refused", file=err)
    if data.errors and all("unknown code" in e.error for e in data.errors) and taxonomy:
        print(
            f"humanfactors {command}: hint: for codes of a scheme of your own, "
            "give --taxonomy none",
            file=err,
        )
    if len(data) == 0:
        raise InputError(
            f"{data.source}: no usable records ({len(data.errors)} refused); nothing to "
            f"{'train on' if command == 'train' else 'evaluate'}"
        )
    return data


class Progress:
    """A one-line status with elapsed time on stderr, shown only on a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._message = ""
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def update(self, message: str) -> None:
        self._message = message
        self._draw()

    def _draw(self) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self._start
            self.stream.write(f"\r\x1b[K{self._message} ({elapsed:.0f} s)")
            self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._draw()


# -- train --------------------------------------------------------------------------
def configure(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)
    parser.add_argument(
        "-o", "--output", required=True, metavar="MODEL", help="model file to write"
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed for a reproducible model (default 0)"
    )


def _training_metrics(model: Any, data: LabelledData) -> dict[str, Any]:
    """Figures on the training reports themselves: cheap, and optimistic by construction."""
    from ..evaluate import evaluate_model

    report = evaluate_model(model, data.texts, data.labels)
    return {
        "training_set_micro_f1": report.micro_f1,
        "training_set_macro_f1": report.macro_f1,
        "training_set_p_at_1": report.p_at_1,
        "n_train": len(data),
        "note": "scores on the training reports (optimistic); use "
        "'humanfactors evaluate --cv K' for an honest estimate",
    }


def _model_taxonomy(taxonomy: str | None) -> Any:
    """A built-in name as it is; a taxonomy file loaded, so that the model holds it.

    A model given the path would name a file that may have moved, or be relative to
    another folder, when it is loaded again (for example to refit a clone of it).
    """
    from ..taxonomy import list_taxonomies, load_taxonomy

    if taxonomy is None or taxonomy in list_taxonomies():
        return taxonomy
    return load_taxonomy(taxonomy)


def run(args: argparse.Namespace) -> int:
    from ..classifier import HumanFactorsClassifier
    from ..exceptions import InputError
    from ..persistence import save_model

    check_data_arguments(args)
    out = Path(args.output)
    if out.is_dir():
        raise InputError(f"-o {out}: is a directory; give a file name")
    if not out.parent.is_dir():
        raise InputError(f"-o {out}: folder {out.parent} does not exist")
    taxonomy = _model_taxonomy(default_taxonomy(args))
    with Progress() as progress:
        progress.update(f"reading {args.data}")
        data = read_data(args, "train", taxonomy)
        codes = len(data.classes)
        progress.update(f"training on {len(data):,} reports, {codes} codes")
        model = HumanFactorsClassifier(taxonomy=taxonomy, random_state=args.random_state)
        start = time.perf_counter()
        model.fit(data.texts, data.labels)
        seconds = time.perf_counter() - start
        progress.update("scoring the training reports")
        metrics = _training_metrics(model, data)
        metrics["fit_seconds"] = round(seconds, 3)
        progress.update(f"saving {out}")
        save_model(
            model,
            out,
            training_data={"sha256": data.fingerprint(), "n": len(data)},
            metrics=metrics,
        )
    print(
        f"humanfactors train: saved {out}: {len(data):,} reports, {codes} codes, "
        f"{len(data.errors)} refused, fitted in {seconds:.1f} s",
        file=sys.stderr,
    )
    return 1 if data.errors else 0
