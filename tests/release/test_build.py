import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ctdc.errors import ReleaseError
from ctdc.fixtures.population import simulate_cases
from ctdc.ingest.mapping import load_preset
from ctdc.ingest.pipeline import ingest_file
from ctdc.release.build import build_release, verify_release
from ctdc.release.ctdc_public import NOTICE, columns

IDENTIFIERS = ("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
               "narrative")
FILES = ["CHANGES.md", "CHECKSUMS.sha256", "CITATION.cff", "TERMS.md", "aggregates.csv", "codebook.html",
         "codebook.json", "ctdc-public.csv", "datapackage.json", "metadata.json", "microdata.csv",
         "microdata.parquet", "microdata.xlsx", "report.html", "report.json", "standard.json", "summary.json"]


@pytest.fixture(scope="module")
def frame():
    return simulate_cases(1500, seed=2).drop(*IDENTIFIERS)


@pytest.fixture(scope="module")
def built(tmp_path_factory, frame):
    root = tmp_path_factory.mktemp("releases")
    return build_release(frame, root=root, dataset="victims", version="2026.11.1", method="k-anonymity")


def test_a_release_folder_is_complete_verifies_and_passes_its_checks(built):
    assert sorted(p.name for p in built.path.iterdir()) == FILES
    assert verify_release(built.path) == []
    assert not [p for p in built.path.parent.iterdir() if p.name.startswith(".tmp")]
    meta = json.loads((built.path / "metadata.json").read_text())
    assert meta["params"] == {"k": 11} and meta["method"] == "k-anonymity" and "input_records" not in meta
    assert built.steward_report["input"]["records"] == 1500
    assert [(c.id, c.passed) for c in built.checks] == [
        ("quasi-identifier-k", True), ("rare-combinations", True), ("unique-record-copies", True)]


def test_the_microdata_are_k_anonymous_checked_independently(built, frame):
    micro = pl.read_parquet(built.path / "microdata.parquet")
    qi = ["registration_year", "gender", "age_band", "majority_status", "majority_status_at_exploitation",
          "citizenship", "country_of_exploitation"]
    assert micro.group_by(qi).len()["len"].min() >= 11
    assert "age" not in micro.columns and micro.height <= frame.height
    assert pl.read_csv(built.path / "microdata.csv", infer_schema=False).height == micro.height


def test_frictionless_validate_passes_on_the_data_package(built):
    out = subprocess.run([sys.executable, "-m", "frictionless", "validate", "--json", "datapackage.json"],
                         cwd=built.path, capture_output=True, text=True, timeout=120)
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["valid"], out.stdout[:2000]
    assert {t["name"] for t in report["tasks"]} == {"microdata", "aggregates", "ctdc-public"}


def _read_ctdc_public(path: Path) -> pl.DataFrame:
    """Read the k-anonymized CTDC layout as its format doc describes it, with polars alone (the intake preset
    `ctdc-public` is not on main yet): `;`, CRLF, a notice as first header cell, a leading empty field."""
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n"), "every line ends with CRLF"
    df = pl.read_csv(path, separator=";", quote_char='"', infer_schema=False)
    assert df.columns[0].startswith("By using this data you agree to the Terms of Use")
    assert df[df.columns[0]].null_count() == df.height  # every data row starts with an empty field
    df = df.drop(df.columns[0])
    assert df.columns == columns() and len(df.columns) == 63

    def flags(prefix: str, codes: dict[str, str]) -> pl.Expr:
        # Every flag empty: not recorded (or suppressed); otherwise the codes flagged 1.
        parts = [pl.when(pl.col(prefix + suffix) == "1").then(pl.lit(code)) for code, suffix in codes.items()]
        joined = pl.concat_str(parts, separator=";", ignore_nulls=True)
        unknown = pl.all_horizontal(pl.col(prefix + suffix).is_null() for suffix in codes.values())
        return pl.when(unknown).then(None).otherwise(joined)

    return df.select(
        pl.col("yearOfRegistration").alias("registration_year"),
        pl.col("gender").str.to_lowercase().alias("gender"),
        pl.col("ageBroad").str.replace("--", "-").alias("age_band"),
        pl.col("majorityStatus").str.to_lowercase().alias("majority_status"),
        pl.col("citizenship"), pl.col("CountryOfExploitation").alias("country_of_exploitation"),
        pl.col("isAbduction").replace_strict({"1": "true", "0": "false"}, default=None).alias("is_abduction"),
        flags("recruiterRelation", {"intimate_partner": "IntimatePartner", "friend": "Friend", "family": "Family",
                                    "other": "Other", "unknown": "Unknown"}).alias("recruiter_relations"),
        flags("typeOfSex", {"prostitution": "Prostitution", "pornography": "Pornography",
                            "remote_interactive_services": "RemoteInteractiveServices",
                            "private_sexual_services": "PrivateSexualServices"}).alias("sexual_exploitation_types"),
        flags("meansOfControl", {"debt_bondage": "DebtBondage", "threats": "Threats",
                                 "false_promises": "FalsePromises"}).alias("means_three"),
    )


def test_the_ctdc_public_flavour_reads_back_to_the_same_records(built):
    back = _read_ctdc_public(built.path / "ctdc-public.csv")
    micro = pl.read_csv(built.path / "microdata.csv", infer_schema=False)
    # What the layout can say comes back unchanged; what it cannot (a generalized year or age band, `*`, a
    # gender other than female/male) is written as empty, as the format doc says.
    three = [pl.when(pl.col("means_of_control").str.split(";").list.contains(c)).then(pl.lit(c))
             for c in ("debt_bondage", "threats", "false_promises")]

    def shown(name: str) -> pl.Expr:
        """A set as the layout shows it: suppressed codes (`*`) left out, nothing left -> empty."""
        kept = pl.col(name).str.split(";").list.filter(pl.element() != "*").list.join(";")
        return pl.when(kept == "").then(None).otherwise(kept).alias(name)

    unsure = pl.col("means_of_control").str.contains("*", literal=True)
    held_three = pl.concat_str(three, separator=";", ignore_nulls=True)
    expected = micro.select(
        pl.when(pl.col("registration_year").str.contains(r"^\d{4}$")).then(pl.col("registration_year"))
        .alias("registration_year"),
        pl.when(pl.col("gender").is_in(["female", "male"])).then(pl.col("gender")).alias("gender"),
        pl.when(pl.col("age_band").str.contains(r"^\d")).then(pl.col("age_band")).alias("age_band"),
        pl.when(pl.col("majority_status") != "*").then(pl.col("majority_status")).alias("majority_status"),
        pl.when(pl.col("citizenship") != "*").then(pl.col("citizenship")).alias("citizenship"),
        pl.when(pl.col("country_of_exploitation") != "*").then(pl.col("country_of_exploitation"))
        .alias("country_of_exploitation"),
        pl.when(pl.col("is_abduction") != "*").then(pl.col("is_abduction")).alias("is_abduction"),
        shown("recruiter_relations"), shown("sexual_exploitation_types"),
        pl.when(pl.col("means_of_control").is_null() | (unsure & (held_three == ""))).then(None)
        .otherwise(held_three).alias("means_three"),
    )
    assert back.height == micro.height > 1000
    assert back.equals(expected)
    assert back["age_band"].drop_nulls().str.contains(r"^\d").all()
    assert NOTICE in (built.path / "ctdc-public.csv").read_text(encoding="utf-8").splitlines()[0]


def test_a_tampered_release_fails_verification(tmp_path, frame):
    b = build_release(frame.head(300), root=tmp_path, dataset="victims", version="2026.11.1")
    target = b.path / "aggregates.csv"
    target.chmod(0o644)
    target.write_text("combination,length,count,protection\n,0,1,none\n")
    assert verify_release(b.path) == ["aggregates.csv does not match its checksum",
                                      "aggregates.csv does not match its data package hash"]


def test_a_published_version_is_never_rewritten(built, frame):
    with pytest.raises(ReleaseError, match="never rewritten"):
        build_release(frame, root=built.path.parents[1], dataset="victims", version="2026.11.1")


def test_direct_identifiers_in_the_input_refuse_the_release(tmp_path):
    df = simulate_cases(100, seed=1)
    with pytest.raises(ReleaseError, match="direct identifier"):
        build_release(df, root=tmp_path, dataset="victims", version="2026.11.1")
    assert not (tmp_path / "victims" / "2026.11.1").exists()


def test_changes_compare_with_the_previous_release(tmp_path, frame):
    first = build_release(frame.head(800), root=tmp_path, dataset="victims", version="2026.11.1")
    second = build_release(frame, root=tmp_path, dataset="victims", version="2026.11.2", previous=first.metadata)
    text = (second.path / "CHANGES.md").read_text()
    assert "Compared with release 2026.11.1" in text
    assert f"Rows in the release: {first.metadata['records']} -> {second.metadata['records']}." in text
    assert "Approved records" not in text and "contributors" not in text  # no count of the input


@pytest.fixture(scope="module")
def k_synthetic(tmp_path_factory, frame):
    root = tmp_path_factory.mktemp("k-synthetic")
    return build_release(frame.head(800), root=root, dataset="victims", version="2026.11.1", method="k-synthetic")


@pytest.mark.parametrize("method", ["k-synthetic", "dp-synthetic"])
def test_each_synthetic_method_builds_a_package_that_verifies(tmp_path, frame, k_synthetic, method):
    b = k_synthetic if method == "k-synthetic" else build_release(
        frame.head(800), root=tmp_path, dataset="victims", version="2026.11.1", method=method)
    assert verify_release(b.path) == []
    report = json.loads((b.path / "report.json").read_text())
    assert report["release"]["method"] == method and "risk_input" not in report["engine"]
    assert {"input", "synthetic_rows", "reported_aggregates"}.isdisjoint(report["engine"])
    assert {"input", "synthetic_rows", "reported_aggregates", "risk_input"} <= set(b.steward_report["engine"])
    # The public sees the k-synthetic gates' outcome; nothing of a DP release's advisory checks.
    expected = [] if method == "dp-synthetic" else ["quasi-identifier-k", "rare-combinations", "unique-record-copies"]
    assert [c["id"] for c in report["checks"]] == expected
    assert all("found" not in c for c in report["checks"])
    assert [c["id"] for c in b.steward_report["checks"]] == [
        "quasi-identifier-k", "rare-combinations", "unique-record-copies"]
    if method == "k-synthetic":
        assert b.checks_passed and report["engine"]["guarantee"]["k_synthetic_check"] == "passed"
    else:
        assert report["engine"]["guarantee"]["epsilon"] == 4.0
        assert not any(c.blocking for c in b.checks)
    # Every aggregate row names its protection; a DP row also its noise (its length's, or its column's at 1).
    agg = pl.read_csv(b.path / "aggregates.csv", infer_schema=False).with_columns(pl.col("length").cast(pl.Int64))
    guarantee = report["engine"]["guarantee"]
    if method == "k-synthetic":
        assert agg.get_column("protection").str.contains(f"^k-rounding k={guarantee['k']} resolution=[0-9]+$").all()
    else:
        # The counts are those of the DP synthetic rows (post-processing of the one DP model), and say so.
        assert agg.get_column("protection").str.contains(
            "^differential privacy epsilon=4 delta=[0-9.e-]+; counts of the DP synthetic rows$").all()
        assert (agg.get_column("length") == 1).sum() > 0
        micro = pl.read_csv(b.path / "microdata.csv", infer_schema=False)
        assert agg.filter(pl.col("length") == 0)["count"].cast(pl.Int64).item() == micro.height


def test_the_ctdc_public_flavour_reads_back_with_the_intake_preset(k_synthetic):
    result = ingest_file(k_synthetic.path / "ctdc-public.csv", load_preset("ctdc-public"), identity_key=b"test")
    micro = (pl.read_csv(k_synthetic.path / "microdata.csv", infer_schema=False)
             .with_row_index("source_row", offset=2).with_columns(pl.col("source_row").cast(pl.Int64)))
    # Every row goes in (a generalized year is written blank, and a blank year is a missing value since standard
    # 0.3.0); every row must come back as it was released, for every field the public layout carries.
    assert result.report.stats["errors_by_rule"] == {}
    assert result.records.height >= 20  # k-synthetic keeps few complete rows of a small input
    fields = ["registration_year", "gender", "age_band", "majority_status",
              "majority_status_at_exploitation", "citizenship", "country_of_exploitation", "exploitation_types",
              "labour_sectors", "sexual_exploitation_types", "means_of_control", "recruiter_relations"]
    back = result.records.sort("source_row").select("source_row", *(pl.col(f).cast(pl.String) for f in fields))
    sent = micro.join(back.select("source_row"), on="source_row").sort("source_row").select("source_row", *fields)
    assert back.equals(sent)
    # isAbduction: the preset reads an empty flag as "no" (its 1-or-empty rule); the export writes 1/0/empty.
    abducted = result.records.sort("source_row")["is_abduction"].cast(pl.String)
    released = micro.join(back.select("source_row"), on="source_row").sort("source_row")["is_abduction"]
    assert (abducted == released).fill_null(True).all()


def test_no_dp_synthetic_record_is_registered_after_the_release_is_built(tmp_path, frame):
    """The standard allows registration years up to 2030; a release built in 2012 may not invent 2013-2030 (the
    demo's DP release once showed cases registered in 2029). The build's own date bounds the public domain."""
    from datetime import UTC, datetime

    assert frame["registration_year"].max() > 2012  # the input has later years: they become missing, not shifted
    b = build_release(frame.head(800), root=tmp_path, dataset="victims", version="2012.06.1", method="dp-synthetic",
                      now=datetime(2012, 6, 1, tzinfo=UTC))
    years = pl.read_parquet(b.path / "microdata.parquet")["registration_year"].drop_nulls().cast(pl.Int64)
    assert years.len() > 0 and years.max() <= 2012
    assert "2000-2012" in (b.path / "report.json").read_text()
