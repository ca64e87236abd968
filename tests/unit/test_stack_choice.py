"""`make run` (lab up --kube auto, then run) takes the real stack when it is built and says which ran."""
from helpers import cli
from helpers.lab import apiserver


def test_auto_is_the_real_stack_only_when_every_binary_is_built(monkeypatch):
    monkeypatch.setattr(apiserver, "real_stack_available", lambda: False)
    assert cli._stack("auto") == "emulator"
    monkeypatch.setattr(apiserver, "real_stack_available", lambda: True)
    assert cli._stack("auto") == "apiserver"
    assert cli._stack("emulator") == "emulator" and cli._stack(None) is None


def test_run_says_which_stack_and_passes_it_to_the_notebooks(monkeypatch, capsys):
    seen = {}

    class Report:
        ok = True

        @staticmethod
        def lines():
            return []

    def fake_run_all(**kwargs):
        seen.update(kwargs)
        return Report()
    import helpers.tutorial
    monkeypatch.setattr(helpers.tutorial, "run_all", fake_run_all)
    monkeypatch.setattr(apiserver, "real_stack_available", lambda: False)
    args = cli.build_parser().parse_args(["run", "--no-html"])
    assert cli._run(args) == 0
    assert seen["parameters"] == {"kube": "emulator"}
    assert capsys.readouterr().out.startswith("stack: emulator")
    args = cli.build_parser().parse_args(["run", "--no-html", "-p", "kube=apiserver"])
    cli._run(args)
    assert seen["parameters"] == {"kube": "apiserver"} and "stack: real" in capsys.readouterr().out
