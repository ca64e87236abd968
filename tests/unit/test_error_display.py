"""display.install_error_handler: an expected error (helpers.errors) is one styled line naming the fix and
the cell still fails; a bug keeps its traceback; a setup name missing after a restart says what to run."""
from __future__ import annotations

import re

import pytest

IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from helpers import display  # noqa: E402


@pytest.fixture()
def shell(capsys):
    ip = InteractiveShell.instance()
    display.install_error_handler(ip, restarts=False)
    yield ip
    ip.set_custom_exc((), None)


def _run(shell, capsys, code: str):
    result = shell.run_cell(code)
    out = capsys.readouterr()
    return result, re.sub(r"\x1b\[[0-9;]*m", "", out.out + out.err)


def test_an_expected_error_is_one_line_with_the_fix_and_the_cell_fails(shell, capsys):
    result, text = _run(shell, capsys, "from helpers.chapters.kubernetes_auth import Parameters\n"
                                       "Parameters(namespace='Akeyless_Auth').validate()")
    assert result.error_in_exec is not None          # Run All and papermill stop here
    assert "Traceback" not in text and "File " not in text
    assert "parameter namespace = 'Akeyless_Auth'" in text and "use namespace = 'akeyless-auth'" in text
    assert len([line for line in text.splitlines() if line.strip()]) == 2      # the problem, the fix


def test_a_bug_keeps_its_traceback(shell, capsys):
    result, text = _run(shell, capsys, "def broken():\n    return {}['missing']\nbroken()")
    assert isinstance(result.error_in_exec, KeyError)
    assert "Traceback" in text and "broken" in text and "{}['missing']" in text


def test_a_setup_name_missing_says_to_run_the_setup_cells(shell, capsys):
    shell.user_ns.pop("chapter", None)
    shell.user_ns.pop("diagrams", None)
    result, text = _run(shell, capsys, "chapter.step(1)")
    assert isinstance(result.error_in_exec, NameError)
    assert "Traceback" not in text and "run the setup cells" in text
    result, text = _run(shell, capsys, "diagrams.show(diagrams.FLOW)")
    assert isinstance(result.error_in_exec, NameError)
    assert "Traceback" not in text and "run the setup cells" in text


def test_other_undefined_names_keep_python_s_message(shell, capsys):
    result, text = _run(shell, capsys, "no_such_name_here")
    assert "Traceback" in text and "name 'no_such_name_here' is not defined" in text
