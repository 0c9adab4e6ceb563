"""The ``assets`` command's entry point: without the ``cli`` extra installed it says what to
install instead of dying with a traceback."""

from __future__ import annotations

import sys

MISSING = (
    "error: the assets command needs its extra: pip install 'assets-registry[cli]' "
    "(missing: {name})"
)


def main() -> None:
    try:
        from assets_client.cli import main as cli
    except ModuleNotFoundError as exc:
        if exc.name in {"click", "httpx", "tqdm", "stream_zip"}:
            print(MISSING.format(name=exc.name), file=sys.stderr)
            sys.exit(2)
        raise
    cli()


if __name__ == "__main__":
    main()
