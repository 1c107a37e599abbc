"""A large CSV is read and checked piece by piece (`read_table_chunks`, issue 14: memory flat as files grow), and
the result is the one the whole file gives: the same records, quarantine, problems and report, row for row.

The files here are small; the piece size is made smaller still so that each is read in many pieces, with
duplicates, conflicting rows, quoted line breaks and empty rows falling on both sides of the cuts.
"""

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ctdc.ingest import readers
from ctdc.ingest.mapping import load_mapping, load_preset, parse_mapping
from ctdc.ingest.pipeline import ingest_file

DATA = Path(__file__).parent.parent / "data"
KEY = b"test-identity-key"


def _both(monkeypatch, path: Path, spec, piece_bytes: int):
    """The result of the whole file, then of the file in pieces of `piece_bytes`, and how many pieces."""
    monkeypatch.setattr(readers, "CHUNK_BYTES", 1 << 40)
    whole = ingest_file(path, spec, identity_key=KEY, organisation="org:1")
    monkeypatch.setattr(readers, "CHUNK_BYTES", piece_bytes)
    # The pipeline reads only mapped columns, never a notice cell's (a read notice column is read whole).
    pieces = sum(1 for _ in readers.read_table_chunks(path, spec.reader, lambda header: [
        c for c in header if len(c) <= 40]))
    return whole, ingest_file(path, spec, identity_key=KEY, organisation="org:1"), pieces


def _same(whole, pieces) -> None:
    assert_frame_equal(whole.records, pieces.records)
    assert_frame_equal(whole.quarantine, pieces.quarantine)
    assert whole.report.flatten() == pieces.report.flatten()
    assert whole.report.problems["message"].to_list() == pieces.report.problems["message"].to_list()
    assert whole.report.stats == pieces.report.stats
    assert (whole.read_info, whole.ignored_columns) == (pieces.read_info, pieces.ignored_columns)
    s = pieces.report.stats
    assert s["rows_read"] == s["accepted"] + s["quarantined"] + s["duplicates"]


def _messy(tmp_path: Path, encoding: str) -> Path:
    """problems.csv many times over: each copy's ids renamed, some rows sent twice (far apart), a quoted cell
    with a line break and a delimiter, an empty row in the middle and empty rows at the end."""
    lines = (DATA / "problems.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    out = [header]
    for copy in range(40):
        for row in rows:
            out.append(f"C{copy}-{row}")
        if copy % 9 == 4:
            out.append(f'C{copy}-X1,2019-03-04,"Ana\nTesta, again",1990-05-06,F,PH,SA,forced_labour,"a ""quoted"" note"')
            out.append("," * header.count(","))
        if copy % 7 == 6:
            out.append(f"C{copy - 5}-{rows[0]}")  # the same record sent again, pieces later
            out.append(f"C{copy - 4}-{rows[1].replace(',F,', ',M,')}")  # same id, other values
    out += ["," * header.count(",")] * 3
    path = tmp_path / f"messy-{encoding}.csv"
    path.write_bytes(("\r\n".join(out) + "\r\n").encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_file_read_in_pieces_gives_what_the_whole_file_gives(monkeypatch, tmp_path, encoding):
    path = _messy(tmp_path, encoding)
    whole, pieces, n = _both(monkeypatch, path, load_mapping(DATA / "small.mapping.yml"), 1024)
    assert n > 10 and whole.report.stats["duplicates"] and whole.report.stats["quarantined"]
    _same(whole, pieces)


def test_the_public_layout_with_its_notice_cell_in_pieces(monkeypatch):
    whole, pieces, n = _both(monkeypatch, DATA / "ctdc-public-kanon-quirks.csv", load_preset("ctdc-public"), 400)
    assert n >= 4
    _same(whole, pieces)


def test_conflicting_rows_of_a_natural_key_are_held_back_across_pieces(monkeypatch, tmp_path):
    spec = parse_mapping("""
dataset: victims
key: [ref, year]
columns:
  year: {field: registration_year}
  sex: {field: gender, values: {F: female, M: male}}
""", name="keyed")
    # R-keys come four times: twice with one sex, twice with the other (a conflict); S-keys twice, the same.
    rows = ["ref,year,sex"] + [f"R{i % 150},{2015 + i % 3},{'F' if (i // 150) % 2 else 'M'}" for i in range(600)]
    rows += [f"S{i % 150},2016,F" for i in range(300)]
    path = tmp_path / "keyed.csv"
    path.write_text("\n".join(rows) + "\n")
    whole, pieces, n = _both(monkeypatch, path, spec, 512)
    assert n > 5 and whole.report.stats["duplicates"]
    assert "conflicting-values" in whole.report.problems["code"].to_list()
    _same(whole, pieces)


def test_pieces_end_at_line_ends_outside_quotes(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'a,b\n1,"x\ny"\n2,"p\n\nq"\n3,z\n' * 50)
    whole = readers.read_table(path)
    parts = list(readers.read_table_chunks(path, chunk_bytes=16))
    assert len(parts) > 20
    assert_frame_equal(pl.concat([p.frame for p in parts]), whole.frame)
    assert [p.first_data_row for p in parts[:3]] == [2, 2 + parts[0].frame.height,
                                                     2 + parts[0].frame.height + parts[1].frame.height]
