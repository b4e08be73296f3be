"""`python -m gateway` and `make help`: every command listed, every mistake one line, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.__main__ import COMMANDS

ROOT = Path(__file__).parents[2]


def _gateway(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_lists_every_subcommand_with_one_line(flag):
    done = _gateway(flag)
    assert done.returncode == 0 and done.stderr == ""
    listed = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert set(listed) == {"serve", "plan", "compose", "schema-diff"} == set(COMMANDS)
    assert all(len(line.split()) > 2 for line in listed.values())  # each has its one line


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_subcommand_has_its_own_help(command):
    done = _gateway(command, "--help")
    assert done.returncode == 0, done.stderr
    assert f"python -m gateway {command}" in done.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["plan", "--supergraph", "missing.graphql", "{ me { id } }"], 1,
         "error: cannot read the supergraph file missing.graphql: No such file or directory"),
        (["plan", "--supergraph", "schema/supergraph.graphql", "@missing.graphql"], 1,
         "error: cannot read the operation file missing.graphql: No such file or directory"),
        (["plan", "--supergraph", "README.md", "{ me { id } }"], 1,
         "error: README.md is not a supergraph: Syntax Error: Unexpected Name 'A'."),
        (["plan"], 2,
         "error: the following arguments are required: --supergraph, query (see python -m gateway plan --help)"),
        (["--supergraph", "missing.graphql"], 1,
         "error: cannot read the supergraph file missing.graphql: No such file or directory"),
        (["serve", "--port", "many"], 2,
         "error: argument --port: invalid int value: 'many' (see python -m gateway serve --help)"),
        (["frobnicate"], 2, "error: unknown command 'frobnicate' (see python -m gateway --help)"),
        (["compose", "--config", "missing.yaml"], 1, "error: missing.yaml: no such file"),
        (["schema-diff", "missing-a.graphql", "missing-b.graphql"], 2,
         "error: [Errno 2] No such file or directory: 'missing-a.graphql'"),
    ],
)
def test_mistakes_are_one_line(args, code, message):
    done = _gateway(*args)
    assert (done.returncode, done.stdout, done.stderr) == (code, "", message + "\n")


def test_make_help_lists_the_targets():
    done = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    targets = {line.split()[1] for line in done.stdout.splitlines()}
    assert {"help", "install", "run", "test", "lint", "typecheck", "schema", "bench", "clean"} <= targets
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:")).split()[1:]
    assert set(phony) == targets  # a new target without a ## line fails here
