r"""``gemgraph config show``: a resolved run config, or a run's stored one; ``gemgraph config list``:
the presets and what each runs."""
from __future__ import annotations

import argparse
import json

from ...errors import InputError
from ._common import add_json, preset_list, _sub


def _cmd_config(args: argparse.Namespace) -> int:
    from ...config import PRESET_DESCRIPTIONS, RunConfig, resolve_config

    if args.action == "list":
        given = [flag for flag, v in (("--preset", args.preset), ("--config", args.config), ("--set", args.set),
                                      ("--run", args.run)) if v]
        if given:
            raise InputError(f"{given[0]}: 'config list' lists every preset and takes no {' / '.join(given)}")
        if args.json:
            print(json.dumps({name: d._asdict() for name, d in PRESET_DESCRIPTIONS.items()}, indent=2))
        else:
            print(preset_list(), end="")
        return 0
    if args.run is not None:
        if args.preset or args.config or args.set:
            raise InputError("--run: shows the run's stored config; drop --preset / --config / --set")
        from ..runs import store_path
        from ...store import RunStore

        if not store_path(args.run).exists():
            raise FileNotFoundError(f"--run: no run store at {store_path(args.run)}")
        with RunStore(store_path(args.run), readonly=True) as st:
            cfg = RunConfig.from_stored(st.config)
    else:
        cfg = resolve_config(args.preset, file=args.config, sets=args.set)
    print(json.dumps(cfg.to_dict(), indent=2) if args.json else cfg.to_lines())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph config``: its options and its handler."""
    from ...config import PRESETS

    cf = _sub(sub, "config", "print a resolved run config (preset < --config < --set), or a run's stored one",
              "  gemgraph config show --preset quick\n"
              "  gemgraph config show --preset quick --set trainer.epochs=3 --json > my.json\n"
              "  gemgraph config show --run runs/quick\n"
              "  gemgraph config list\n", preset_list())
    cf.add_argument("action", choices=["show", "list"],
                    help="what to do (show: print the config; list: the presets and what each runs)")
    cf.add_argument("--preset", default=None, choices=list(PRESETS),
                    help="settings bundle, listed below (omitted: the --set / --config preset key, else default)")
    cf.add_argument("--config", default=None, metavar="FILE", help="settings file, JSON or TOML; overrides the preset")
    cf.add_argument("--set", action="append", default=None, metavar="SECTION.KEY=VALUE",
                    help="set one config key, repeatable; overrides --config")
    cf.add_argument("--run", default=None, metavar="RUN", help="show the stored config of the run in RUN instead")
    add_json(cf, "the config (a file --config reads) instead of key = value lines")
    cf.set_defaults(func=_cmd_config)
