"""``python -m tierchem.agent``: a dependency-free entry point (the ``tierchem`` CLI has the same commands).

    python -m tierchem.agent investigate SERIES --question Q --run-dir DIR [--tier-cap N] [--executor E]
    python -m tierchem.agent resume DIR
    python -m tierchem.agent demo [DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tierchem.agent")
    sub = p.add_subparsers(dest="cmd", required=True)
    inv = sub.add_parser("investigate")
    inv.add_argument("series")
    inv.add_argument("--question", required=True)
    inv.add_argument("--run-dir", required=True)
    inv.add_argument("--tier-cap", type=int, default=3)
    inv.add_argument("--budget-s", type=float, default=1800.0)
    inv.add_argument("--executor", default="local")
    inv.add_argument("--store", default=None)
    inv.add_argument("--llm", default=None)
    res = sub.add_parser("resume")
    res.add_argument("run_dir")
    demo = sub.add_parser("demo")
    demo.add_argument("run_dir", nargs="?", default="runs/demo")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from .session import Investigation, run_demo
    from .series import SeriesError

    try:
        if args.cmd == "investigate":
            with Investigation.create(args.series, args.question, args.run_dir, tier_cap=args.tier_cap,
                                      cpu_budget_s=args.budget_s, executor=args.executor, store_path=args.store,
                                      llm=args.llm) as session:
                session.run()
                out = session.conclusion()
        elif args.cmd == "resume":
            with Investigation.open(args.run_dir) as session:
                session.run()
                out = session.conclusion()
        else:
            out = run_demo(args.run_dir)
    except (SeriesError, FileExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
