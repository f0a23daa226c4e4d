"""``humanfactors evaluate``: score a saved model on held-out reports, or cross-validate."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .train import (
    Progress,
    add_data_arguments,
    check_data_arguments,
    default_taxonomy,
    read_data,
)

HELP = "score a saved model on coded reports, or cross-validate a new one (--cv K)"


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--model", metavar="MODEL", help="saved model to score on DATA (held out)")
    how.add_argument(
        "--cv", type=int, metavar="K", help="K-fold cross-validation of a new model on DATA"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the table"
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed of the folds and models (default 0)"
    )
    parser.add_argument(
        "--trusted",
        action="store_true",
        help="load a model file that was not saved on this machine (loading runs its code)",
    )


def _model_taxonomy(model: Any) -> Any:
    """The taxonomy the model was fitted with, as it holds it (no file is read again)."""
    from ..evaluate import _taxonomy_of

    return _taxonomy_of(model)


def run(args: argparse.Namespace) -> int:
    from ..evaluate import _check_fitted_model, cross_validate, evaluate_model
    from ..exceptions import InputError

    check_data_arguments(args)
    if args.model is not None:
        from ..persistence import load_model

        model = load_model(args.model, trusted=args.trusted)
        _check_fitted_model(model, f"{args.model}: evaluate --model")
        taxonomy = default_taxonomy(args) if args.taxonomy else _model_taxonomy(model)
        data = read_data(args, "evaluate", taxonomy)
        with Progress() as progress:
            progress.update(f"scoring {len(data):,} reports")
            report = evaluate_model(model, data.texts, data.labels)
    else:
        from ..classifier import HumanFactorsClassifier

        if args.cv < 2:
            raise InputError(f"--cv must be at least 2, got {args.cv}")
        taxonomy = default_taxonomy(args)
        data = read_data(args, "evaluate", taxonomy)
        if args.cv > len(data):
            raise InputError(f"--cv {args.cv} is more folds than the {len(data)} usable reports")
        estimator = HumanFactorsClassifier(taxonomy=taxonomy, random_state=args.random_state)
        with Progress() as progress:
            progress.update(f"{args.cv}-fold cross-validation on {len(data):,} reports")
            report = cross_validate(
                estimator,
                data.texts,
                data.labels,
                cv=args.cv,
                random_state=args.random_state,
                progress=lambda done, total: progress.update(
                    f"{args.cv}-fold cross-validation: {done}/{total} folds"
                ),
            )
    if args.json:
        out = report.to_dict()
        out["source"] = data.source
        out["refused"] = len(data.errors)
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        sys.stdout.write(report.table() + "\n")
        if data.errors:
            sys.stdout.write(f"\n{len(data.errors)} records refused (listed on stderr)\n")
    return 1 if data.errors else 0
