"""Registry and CLI basics: lazy entries, did-you-mean errors, no torch on light commands."""

import subprocess
import sys

import pytest

from wflwv.registry import DETECTORS, FILTERS, REGISTRIES, Registry, UnknownNameError


def test_unknown_name_suggests_close_match():
    with pytest.raises(UnknownNameError) as err:
        FILTERS.entry("one-eur")
    assert "one-euro" in str(err.value)
    assert "Did you mean" in str(err.value)


def test_registering_a_different_target_raises():
    reg = Registry("thing")
    reg.register("a", "os:path")
    reg.register("a", "os:path")  # same target: fine
    with pytest.raises(ValueError):
        reg.register("a", "os:sep")


def test_wildcard_listing():
    names = DETECTORS.names("pipnet*")
    assert names and all(n.startswith("pipnet") for n in names)
    assert "ldeq.wflw_v" in DETECTORS.names("ldeq*")


def test_every_kind_is_listed():
    assert set(REGISTRIES) == {"datasets", "detectors", "filters", "metrics", "protocols"}
    assert {"rwr", "qlot"} <= set(REGISTRIES["protocols"].names())
    assert {"wflw-v", "300vw", "ytc", "synthetic"} <= set(REGISTRIES["datasets"].names())


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_import_and_ls_do_not_import_torch():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import wflwv\n"
        "from wflwv.cli import main\n"
        "r = CliRunner().invoke(main, ['ls'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'ldeq.wflw_v' in r.output and 'one-euro' in r.output\n"
        "print('torch' in sys.modules, 'cv2' in sys.modules)\n"
    )
    assert _run(code).split() == ["False", "False"]


def test_env_without_torch_reports_versions():
    code = (
        "import sys, json\n"
        "from click.testing import CliRunner\n"
        "from wflwv.cli import main\n"
        "r = CliRunner().invoke(main, ['env', '--json', '--no-torch'])\n"
        "assert r.exit_code == 0, r.output\n"
        "info = json.loads(r.output)\n"
        "print(info['numpy'] is not None, info['python'] == sys.version.split()[0], 'torch' in sys.modules)\n"
    )
    assert _run(code).split() == ["True", "True", "False"]


def test_version_and_help_with_examples():
    from click.testing import CliRunner

    from wflwv import __version__
    from wflwv.cli import main

    r = CliRunner().invoke(main, ["--version"])
    assert __version__ in r.output
    for cmd in ("ls", "env"):
        r = CliRunner().invoke(main, [cmd, "--help"])
        assert r.exit_code == 0 and "Example" in r.output
