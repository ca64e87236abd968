"""`python -m helpers ...`: the lab's lifecycle, the doctor, the headless tutorial run, and a workshop room."""
from __future__ import annotations

import argparse
import sys

from .config import Settings
from .errors import ConfigError, LabError


def _stack(kube: str | None) -> str | None:
    """`auto`: the real stack (kube-apiserver, kube-controller-manager, ESO) when it is built, else the emulator."""
    if kube != "auto":
        return kube
    from .lab import apiserver
    return "apiserver" if apiserver.real_stack_available() else "emulator"


def _lab(args) -> int:
    from . import lab
    settings = Settings.load(lab_dir=args.lab_dir)
    if args.action == "up":
        from .session import kube_in_use
        print(lab.up(settings, kube=_stack(args.kube) or kube_in_use(settings)).summary())
        info = lab.info(settings)
        for label, value in info.rows():
            print(f"  {label:<22} {value}")
    elif args.action == "down":
        print(lab.down(settings).summary())
    elif args.action == "reset":
        print(lab.reset(settings).summary())
    elif args.action == "status":
        result = lab.status(settings)
        print(result.summary())
        for label, value in result.rows():
            print(f"  {label:<22} {value}")
        return 0 if result.running else 3
    elif args.action == "clock":
        print(f"lab clock offset: {lab.advance_clock(args.seconds, settings):.0f} s")
    elif args.action == "eso":
        from .lab import eso_beside
        if args.stop:
            print(eso_beside.stop(settings.lab_dir).summary())
        else:
            if not args.kubeconfig:
                raise ConfigError("`lab eso` needs the cluster to run beside",
                                  hint="python -m helpers lab eso --kubeconfig ~/.kube/config [--context NAME]")
            result = eso_beside.start(args.kubeconfig, args.context, settings.lab_dir)
            print(result.summary())
            for label, value in result.rows():
                print(f"  {label:<22} {value}")
    return 0


def _doctor(args) -> int:
    from .doctor import run_akeyless_doctor, run_doctor
    settings = Settings.load(target=args.target, kubeconfig=args.kubeconfig, context=args.context,
                             lab_dir=args.lab_dir)
    if args.akeyless:
        from .runbook import names_from
        report = run_akeyless_doctor(settings, names_from(args))
    else:
        report = run_doctor(settings)
    print(report.as_text())
    return 0 if report.ok else 1


def _runbook(args) -> int:
    from .runbook import names_from, script
    print(script(names_from(args)))
    return 0


def _run(args) -> int:
    from .tutorial import run_all
    parameters = dict(p.split("=", 1) for p in args.parameter or [])
    if parameters.get("target", "lab") == "lab":
        if not args.in_place:   # the committed outputs stay the emulator's: every learner's default, nbval's too
            parameters.setdefault("kube", _stack("auto"))
        print("stack: " + ("real (etcd, kube-apiserver, kube-controller-manager, the ESO controller)"
                           if (parameters.get("kube") or Settings.load().kube) == "apiserver" else
                           "emulator (Python Kubernetes API; ESO replayed; `make real` builds the real stack)"))
    names = args.notebook or None
    if args.chapters:
        from .tutorial import CHAPTERS
        names = [c.stem for c in CHAPTERS if c.needs_real_stack == (args.chapters == "real")
                 and (not args.notebook or c.stem in args.notebook or f"{c.stem}.ipynb" in args.notebook)]
    results = run_all(output_dir=args.output, parameters=parameters,
                      names=names, html=not args.no_html, in_place=args.in_place)
    for line in results.lines():
        print(line)
    return 0 if results.ok else 1


def _workshop(args) -> int:
    from . import workshop
    from .workshop import isolation, progress, provision
    settings = Settings.load(target=args.target, kubeconfig=args.kubeconfig, context=args.context,
                             lab_dir=args.lab_dir)
    if args.action == "up":
        result = workshop.up(settings, args.attendees, args.prefix)
    elif args.action == "down":
        result = workshop.down(settings)
    elif args.action == "reset":
        if not args.attendee:
            raise ConfigError("`workshop reset` needs the attendee", hint="e.g. `workshop reset ws-03` (or just 3)")
        result = workshop.reset(settings, args.attendee)
    elif args.action == "check":
        result = isolation.check(provision.connect(settings))
        print(result.summary())
        for attempt in result.attempts:
            print(f"  {attempt.summary()}")
        for line in result.not_tried:
            print(f"  {line}")
        return 0 if result.ok else 1
    else:
        print(progress.board(provision.connect(settings)).as_text())
        return 0
    print(result.summary())
    for row in result.rows():
        print("  " + "  ".join(str(c) for c in row))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    parser.add_argument("--lab-dir", help="lab state directory (default .lab/ or $WORKSHOP_LAB_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("lab", help="the embedded lab")
    lab.add_argument("action", choices=["up", "down", "status", "reset", "clock", "eso"])
    lab.add_argument("seconds", nargs="?", type=float, default=0, help="with `clock`: seconds to advance")
    lab.add_argument("--kube", choices=["emulator", "apiserver", "auto"], default=None,
                     help="the lab's Kubernetes side: the Python emulator, the real stack "
                          "(kube-apiserver, kube-controller-manager, ESO), or auto (the real stack when built); "
                          "without it, $WORKSHOP_LAB_KUBE, else the lab already running, else the emulator")
    lab.add_argument("--kubeconfig", help="with `eso`: the cluster to run the real ESO controller beside")
    lab.add_argument("--context", help="with `eso`: the kubeconfig context (default: its current context)")
    lab.add_argument("--stop", action="store_true", help="with `eso`: stop the controller `lab eso` started")
    lab.set_defaults(func=_lab)

    doctor = sub.add_parser("doctor", help="check, link by link, that a target can serve the tutorial")
    doctor.add_argument("--target", choices=["lab", "kubeconfig"], default=None)
    doctor.add_argument("--kubeconfig")
    doctor.add_argument("--context")
    doctor.add_argument("--akeyless", action="store_true",
                        help="check the Akeyless side (auth method, gateway config, role, a real login and read) "
                             "for the chapter's names given as the runbook's flags; read-only")
    from .runbook import add_arguments
    add_arguments(doctor)
    doctor.set_defaults(func=_doctor)

    runbook = sub.add_parser("runbook", help="print the shell script that sets the chapter up on a real AKS "
                                              "cluster and Akeyless account")
    add_arguments(runbook)
    runbook.set_defaults(func=_runbook)
    ws = sub.add_parser("workshop", help="a room of attendees on one lab or cluster: provision, reset, board")
    ws.add_argument("action", choices=["up", "down", "reset", "status", "check"],
                    help="status: the instructor's board as text; check: try every cross-attendee attack")
    ws.add_argument("attendee", nargs="?", help="with `reset`: the attendee (ws-03, or 3)")
    ws.add_argument("--attendees", type=int, default=1, help="with `up`: how many (1..N; idempotent)")
    ws.add_argument("--prefix", default="ws", help="with `up`: names are PREFIX-01, PREFIX-02, ...")
    ws.add_argument("--target", choices=["lab", "kubeconfig"], default=None)
    ws.add_argument("--kubeconfig", help="target kubeconfig: an admin kubeconfig for the shared cluster")
    ws.add_argument("--context")
    ws.set_defaults(func=_workshop)

    run = sub.add_parser("run", help="execute every notebook headless with papermill into build/")
    run.add_argument("--output", default="build/executed")
    run.add_argument("-p", "--parameter", action="append", help="name=value passed to every notebook")
    run.add_argument("--notebook", action="append", help="only this notebook (repeatable)")
    run.add_argument("--chapters", choices=["emulator", "real"],
                     help="only the chapters whose committed outputs come from this stack (make notebooks)")
    run.add_argument("--no-html", action="store_true", help="skip the offline HTML export")
    run.add_argument("--in-place", action="store_true",
                     help="write the outputs back into notebooks/ (how the committed outputs are made)")
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        sys.exit(args.func(args))
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
