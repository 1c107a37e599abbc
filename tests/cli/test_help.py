import click

from ctdc.cli.main import cli

EXPECTED = {"init", "serve", "simulate", "org", "user", "ingest", "codebook", "risk", "synth", "release", "manage", "purge"}


def _walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _walk(command, (*prefix, name))


def test_ctdc_help_lists_every_subcommand(run_cli):
    result = run_cli("--help")
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed >= EXPECTED


def test_every_command_has_its_own_help(run_cli):
    paths = list(_walk(cli))
    assert len(paths) >= len(EXPECTED)
    for path in paths:
        result = run_cli(*path, "--help")
        assert result.exit_code == 0, path
        assert "Usage: " in result.output and result.output.count("\n") > 3


def test_an_unknown_organisation_is_a_usage_error(run_cli, simulated, db):
    folder, _ = simulated
    result = run_cli("ingest", str(folder / "open-roads.csv"), "--org", "nobody")
    assert result.exit_code == 2 and "No organisation 'nobody'" in result.output


def test_an_unreadable_file_exits_1_with_one_line(run_cli, db, tmp_path):
    run_cli("org", "create", "x-org", "--name", "X")
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    result = run_cli("ingest", str(bad), "--org", "x-org", "--preset", "kobo-htcds")
    assert result.exit_code == 1 and "is empty" in result.output and "Traceback" not in result.output


def test_suggest_mapping_prints_yaml_and_stores_nothing(run_cli, simulated, db):
    from ctdc.web.submissions.models import Submission

    folder, _ = simulated
    result = run_cli("ingest", str(folder / "open-roads.csv"), "--suggest-mapping")
    assert result.exit_code == 0 and "field: citizenship" in result.stdout
    assert Submission.objects.count() == 0
