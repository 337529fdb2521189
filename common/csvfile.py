"""The one reader for every CSV SynthMix reads (data, class tables, submission templates).

pandas turns an empty file, a ragged row or a Latin-1 byte into a traceback, and silently fills a short row; this
reader decodes and splits the file itself (the csv module) so each of those is one line naming the file, the line
and the fix. Cells are kept as text, exactly as written (no NaN, no type guessing).
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from common.errors import UserError

ENCODING_OPTION = "--encoding"


def check_encoding(encoding: str | None, option: str = ENCODING_OPTION) -> None:
    """An encoding name Python knows (or None: UTF-8)."""
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"{option} {encoding!r}: not an encoding Python knows; use e.g. utf-8, cp1251 or latin-1") \
            from None


def _decode(raw: bytes, path: Path, encoding: str | None, option: str | None) -> str:
    try:
        return raw.decode(encoding or "utf-8-sig")  # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        byte = f"byte 0x{raw[e.start]:02x} on line {line}"
        if encoding:
            raise UserError(f"{path}: not {encoding} text ({byte}); pass the encoding it was saved in, or save it "
                            "as UTF-8") from None
        how = (f", or pass {option} with the encoding it was saved in (e.g. {option} cp1251 for Russian text "
               f"from Excel, {option} latin-1)") if option else ""
        raise UserError(f"{path}: not UTF-8 text ({byte}); save it as UTF-8 (a spreadsheet's 'CSV UTF-8'){how}") \
            from None


def read_csv(path: str | Path, what: str = "CSV", encoding: str | None = None,
             encoding_option: str | None = ENCODING_OPTION, rows: str = "one row per item") \
        -> pd.DataFrame:
    """A CSV file as a DataFrame of text cells, or one UserError naming the file and what is wrong with it.

    Refused: an empty file, a header with no rows, a header naming a column twice, a row with more or fewer fields
    than the header, bytes that are not text in `encoding` (UTF-8 by default). `encoding_option` is the option
    that sets the encoding on this command (None where there is none, so the advice never names a missing one);
    `rows` says what each row holds, for the advice on a file without any.
    `df.attrs["lines"]` holds each row's line number in the file, for messages about a cell.
    """
    path = Path(path)
    check_encoding(encoding, encoding_option or ENCODING_OPTION)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: {what} not found; check the path") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read the {what} ({e.strerror}); check the path and its permissions") \
            from None
    if not raw.strip():
        raise UserError(f"{path}: empty file (no header, no rows); write a header line, then {rows}")
    text = _decode(raw, path, encoding, encoding_option)
    if "\0" in text:  # UTF-16 text decoded with the wrong codec, or not text at all
        line = text[:text.index("\0")].count("\n") + 1
        raise UserError(f"{path}: not a readable CSV file (a NUL byte on line {line}: UTF-16 or binary?); save it as "
                        "UTF-8 CSV")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows, lines = [], []
    try:
        header = next(reader)
        for row in reader:
            if not row:
                continue  # a blank line, as pandas skips it
            if len(row) != len(header):
                more = "fewer" if len(row) < len(header) else "more"
                raise UserError(f"{path}: line {reader.line_num} has {len(row)} field{'s' * (len(row) != 1)}, the "
                                f"header has {len(header)} ({more} commas than the header); fix or delete that row")
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as e:
        raise UserError(f"{path}: not a readable CSV file (line {reader.line_num}: {e}); save it as plain CSV") \
            from None
    header = [h.strip() for h in header]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise UserError(f"{path}: the header names column {twice[0]!r} twice; give every column its own name")
    if not rows:
        raise UserError(f"{path}: no rows under the header; write {rows} under it")
    df = pd.DataFrame(rows, columns=header, dtype=object)
    df.attrs["lines"] = lines
    return df


def refuse_blank(df: pd.DataFrame, column: str, path: str | Path, what: str) -> None:
    """Every cell of `column` holds something: a blank one is one line naming its line in the file."""
    blank = [i for i, v in enumerate(df[column]) if not str(v).strip()]
    if blank:
        lines = df.attrs.get("lines") or list(range(2, len(df) + 2))
        more = f" (and {len(blank) - 1} more rows)" if len(blank) > 1 else ""
        raise UserError(f"{path}: line {lines[blank[0]]} has an empty {what} (column {column!r}){more}; fill it in "
                        "or delete the row")
