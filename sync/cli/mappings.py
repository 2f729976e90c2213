"""`mappings export FILE` / `mappings import FILE`: the VAT, ledger and customer mappings as CSV. An import takes the
whole file or nothing; a row whose target is missing is applied and listed, as the checks will show it."""

from __future__ import annotations

import argparse

from sync.cli.common import EXIT_FAILED, EXIT_OK, err, fail, lang_of, out, speaker
from sync.cli.session import services
from sync.core.words import Msg


def export(args: argparse.Namespace) -> int:
    from sync.jobs.mappings_io import export_csv

    lang = lang_of(args)
    tn = speaker(lang)
    with services(args) as opened:
        n = export_csv(opened.store, args.file, lang)  # for the reader's spreadsheet, as every export is
        out(tn("cli.mappings.exported", n=n, file=str(args.file)))
        return EXIT_OK


def import_(args: argparse.Namespace) -> int:
    from sync.jobs.mappings_io import MappingImportError, import_csv

    lang = lang_of(args)
    t = tn = speaker(lang)
    with services(args) as opened:
        try:
            result = import_csv(opened.store, args.file, actor="cli")
        except MappingImportError as exc:
            fail(t, Msg("cli.mappings.refused"))
            for problem in exc.problems:
                err(f"  {t(problem.on_line)}")
            return EXIT_FAILED
        out(tn("cli.mappings.imported", n=result.count, file=str(args.file)))
        if result.warnings:
            err(t("cli.mappings.imported_with_warnings"))
            for warning in result.warnings:
                err(f"  {t(warning.on_line)}")
        return EXIT_OK
