"""``assets``: upload, download, search and manage assets from the shell.

Exit codes: 0 done; 1 the service refused the work (a failed bundle, a conflict); 2 usage;
3 not found; 4 invalid input; 5 the service failed; 6 network; 7 verification failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn

import click
from tqdm import tqdm

from assets_client.api import (
    ApiError,
    AssetsClient,
    BadResponse,
    NetworkError,
    UploadFailed,
    VerificationError,
    split_ref,
)
from assets_client.parts import unfinished_for
from assets_client.sdk import Registry

EXIT_REFUSED, EXIT_NOT_FOUND, EXIT_INVALID, EXIT_SERVER, EXIT_NETWORK, EXIT_VERIFY = (
    1,
    3,
    4,
    5,
    6,
    7,
)


class Options:
    def __init__(self, endpoint: str | None, as_json: bool) -> None:
        self.as_json = as_json
        # The SDK's Registry: the commands it covers call it; the others (uploads in parts,
        # resumes, ZIP extraction, the Assets DB and components) use its transport.
        self.registry = Registry(endpoint)
        self.client: AssetsClient = self.registry.client

    def emit(self, value: Any, text: str | None = None) -> None:
        """A result: JSON for scripts, else a line a person reads."""
        if self.as_json or text is None:
            click.echo(json.dumps(value, indent=None if self.as_json else 2))
        else:
            click.echo(text)

    def bar(self, description: str) -> tqdm:
        return tqdm(
            desc=description,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=self.as_json or None,
            file=sys.stderr,
            leave=False,
        )

    @contextmanager
    def spinner(self, what: str, first: str = "") -> Iterator[Callable[[str], None]]:
        """One line that shows a state as it changes (``what: state [elapsed]``); yields the
        function that sets it."""
        with tqdm(
            desc=f"{what}: {first}" if first else what,
            bar_format="{desc} [{elapsed}]",
            disable=self.as_json or None,
            file=sys.stderr,
            leave=False,
        ) as line:

            def show(state: str) -> None:
                line.set_description_str(f"{what}: {state}")
                line.update(0)

            yield show


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def reported() -> Iterator[None]:
    """Every failure becomes one line on stderr and an exit code, never a traceback."""
    try:
        yield
    except ApiError as exc:
        code = (
            EXIT_NOT_FOUND
            if exc.status == 404
            else EXIT_SERVER
            if exc.status >= 500
            else EXIT_REFUSED
            if exc.status == 409
            else EXIT_INVALID
        )
        fail(f"{exc.code}: {exc.message} (HTTP {exc.status})", code)
    except NetworkError as exc:
        fail(str(exc), EXIT_NETWORK)
    except BadResponse as exc:
        fail(str(exc), EXIT_SERVER)
    except UploadFailed as exc:
        fail(f"upload failed: {exc}", EXIT_REFUSED)
    except VerificationError as exc:
        fail(f"verification failed: {exc}", EXIT_VERIFY)
    except (OSError, ValueError) as exc:
        fail(str(exc) or f"{type(exc).__name__} (a file changed while it was read?)", EXIT_INVALID)


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{what} is not valid JSON: {exc}", EXIT_INVALID)


pass_options = click.make_pass_decorator(Options)


@click.group()
@click.option(
    "--endpoint",
    envvar="ASSETS_ENDPOINT",
    default=None,
    help="Base URL of the services (default http://127.0.0.1:3000; $ASSETS_ENDPOINT).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output, no progress bars.")
@click.version_option("0.1.0", prog_name="assets")
@click.pass_context
def main(ctx: click.Context, endpoint: str | None, as_json: bool) -> None:
    """Upload, download and search the Assets Registry. $ASSETS_TOKEN is sent as a bearer
    token when set, else the token `assets login` saved for the endpoint."""
    ctx.obj = Options(endpoint, as_json)
    ctx.call_on_close(ctx.obj.client.close)


PARALLEL = click.option(
    "--parallel",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Parts sent at once (an upload past 100 MiB goes in parts).",
)
RESUME = click.option(
    "--resume",
    "resume_id",
    metavar="UPLOAD_ID",
    help="Continue an interrupted upload of PATH in parts (its id is printed, and saved, as "
    "it starts).",
)


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--no-wait", is_flag=True, help="Return once the bundle is sent.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait for ingest.")
@PARALLEL
@RESUME
@click.option(
    "--multipart/--single",
    default=None,
    help="Send in parts (resumable) or in one request, whatever the size.",
)
@click.option("--part-size", type=click.IntRange(5 * 1024 * 1024), help="Bytes per part.")
@pass_options
def upload(
    options: Options,
    path: Path,
    no_wait: bool,
    timeout: float,
    parallel: int,
    resume_id: str | None,
    multipart: bool | None,
    part_size: int | None,
) -> None:
    """Upload a .zip bundle, or a folder with asset.json (zipped as it is sent)."""
    with reported():
        with options.bar(f"upload {path.name}") as bar:
            if resume_id:
                options.client.resume_upload(
                    resume_id,
                    path,
                    parallel=parallel,
                    progress=bar.update,
                    on_total=lambda n: setattr(bar, "total", n),
                )
                upload_id = resume_id
            else:
                hint_unfinished(path)
                upload_id = options.client.upload(
                    path,
                    progress=bar.update,
                    on_total=lambda n: setattr(bar, "total", n),
                    parallel=parallel,
                    multipart=multipart,
                    part_size=part_size,
                    on_session=lambda started: click.echo(
                        f"upload {started}: in parts; if interrupted, "
                        f"assets upload {path} --resume {started}",
                        err=True,
                    ),
                )
        if no_wait:
            options.emit({"upload_id": upload_id, "status": "queued"}, upload_id)
            return
        with options.spinner("ingest", "queued") as show:
            record = options.client.wait(upload_id, timeout=timeout, on_status=show)
        version = record.get("asset_version")
        options.emit(record, f"{record['asset_id']}" + (f"@{version}" if version else ""))


def hint_unfinished(path: Path) -> None:
    """Say so when an earlier upload of the same path was interrupted."""
    for upload_id in unfinished_for(path)[-1:]:
        click.echo(
            f"note: an earlier upload of {path} was interrupted; to continue it: "
            f"assets upload {path} --resume {upload_id}",
            err=True,
        )


@main.command()
@click.argument("asset_ref", metavar="ASSET_ID[@VERSION]")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option(
    "--offline", is_flag=True, help="From the local cache alone; fail if it lacks a file."
)
@click.option("--workers", default=4, show_default=True, help="Files fetched at once.")
@pass_options
def pull(
    options: Options, asset_ref: str, folder: Path | None, offline: bool, workers: int
) -> None:
    """Pull a version's files into FOLDER (default ASSET_ID-VERSION) through the local content
    cache ($ASSETS_CACHE): only files whose sha256 the cache lacks are downloaded; the folder
    then holds exactly the version's files (hard links to the cache where possible), each
    verified. Pulling again moves no bytes; the next version moves only what changed."""
    from assets_client.pull import PullError

    with reported():
        try:
            with options.bar(f"pull {asset_ref}") as bar:
                result = options.registry.pull(
                    asset_ref,
                    folder,
                    offline=offline,
                    workers=workers,
                    progress=bar.update,
                    on_total=lambda n: setattr(bar, "total", n),
                )
        except PullError as exc:
            fail(str(exc), EXIT_NOT_FOUND if offline else EXIT_VERIFY)
    options.emit(
        result.summary(),
        f"{result.folder} ({result.asset_version}: {result.files} files verified, "
        f"{len(result.fetched)} fetched, {result.fetched_bytes} bytes)",
    )


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-wait", is_flag=True, help="Return once the bundle is sent.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait for ingest.")
@pass_options
def push(options: Options, folder: Path, no_wait: bool, timeout: float) -> None:
    """Push FOLDER (with asset.json naming a new asset_version) as a new version, sending
    only the files whose content the registry does not already hold for you; the others are
    named by sha256 in the bundle's asset.json."""
    from assets_client.push import PushError

    with reported():
        try:
            with options.bar(f"push {folder.name}") as bar:
                result = options.registry.push(
                    folder, wait=not no_wait, timeout=timeout, progress=bar.update
                )
        except PushError as exc:
            fail(str(exc), EXIT_INVALID)
    options.emit(
        result.summary(),
        f"{result.asset_id}@{result.asset_version} ({len(result.sent)} of {result.files} files "
        f"sent, {result.sent_bytes} bytes; {len(result.named)} already held)",
    )


@main.group()
def cache() -> None:
    """The local content cache of `assets pull` ($ASSETS_CACHE, else the platform's)."""


@cache.command("ls")
@pass_options
def cache_ls(options: Options) -> None:
    """Every content held: sha256, size, last used."""
    from datetime import UTC, datetime

    entries = [
        {
            "sha256": e.sha256,
            "size": e.size,
            "last_used": datetime.fromtimestamp(e.last_used, UTC).isoformat(timespec="seconds"),
        }
        for e in options.registry.cache.entries()
    ]
    options.emit(
        entries, "\n".join(f"{e['sha256']}  {e['size']:>14}  {e['last_used']}" for e in entries)
    )


@cache.command("size")
@pass_options
def cache_size(options: Options) -> None:
    """How many bytes the cache holds, and where."""
    held = options.registry.cache
    total = held.size()
    options.emit({"root": str(held.root), "bytes": total}, f"{total} bytes in {held.root}")


@cache.command("prune")
@click.option(
    "--older-than",
    "older_than",
    default=None,
    help="Only contents not used for this long: 30d, 12h, 90m (default: everything).",
)
@pass_options
def cache_prune(options: Options, older_than: str | None) -> None:
    """Remove contents from the cache (folders pulled before keep their hard links)."""
    seconds = None if older_than is None else _duration(older_than)
    removed = options.registry.cache.prune(seconds)
    freed = sum(e.size for e in removed)
    options.emit(
        {"removed": len(removed), "bytes": freed}, f"removed {len(removed)} ({freed} bytes)"
    )


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit():
        fail(f"--older-than takes a count and a unit (s, m, h, d, w), e.g. 30d: not {text!r}", 2)
    return int(number) * units[unit]


@main.command()
@click.argument("asset_ref", metavar="ASSET_ID[@VERSION]")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Where to save the ZIP.")
@click.option("--extract", type=click.Path(path_type=Path), help="Extract the files here instead.")
@click.option("--file", "file_path", help="Save only this file of the asset (its path in it).")
@click.option(
    "--no-zip",
    is_flag=True,
    help="Fetch the files one by one, in parallel, into --extract (default ./ASSET_ID).",
)
@pass_options
def download(
    options: Options,
    asset_ref: str,
    output: Path | None,
    extract: Path | None,
    file_path: str | None,
    no_zip: bool,
) -> None:
    """Download an asset as a ZIP (or its files one by one) and check every file's sha256
    against the stored metadata. ID@VERSION (a version or an alias: ID@v2, ID@stable)
    downloads that version; ID alone, the current one."""
    asset_id, version = split_ref(asset_ref)
    if output and extract:
        fail("use either -o or --extract", 2)
    if file_path is not None and (extract or no_zip):
        fail("--file saves one file: use -o for where, not --extract or --no-zip", 2)
    if no_zip and output:
        fail("--no-zip saves files into a folder: use --extract, not -o", 2)
    with reported():
        if file_path is not None:
            _download_file(options, asset_id, file_path, output, version)
        elif no_zip:
            _download_files(options, asset_id, extract or Path(asset_id), version)
        else:
            _download_zip(options, asset_id, output, extract, version)


def _download_zip(
    options: Options,
    asset_id: str,
    output: Path | None,
    extract: Path | None,
    version: str | None,
) -> None:
    asset = options.client.get(asset_id, version)
    with options.spinner("zip") as show:
        location = options.client.download_location(asset_id, on_status=show, version=version)
    with options.bar(f"download {asset_id}") as bar:
        total = lambda n: setattr(bar, "total", n)  # noqa: E731
        if extract:  # unzipped as it arrives: no copy of the ZIP on disk
            extract.mkdir(parents=True, exist_ok=True)
            checked = options.client.extract(
                location, asset, extract, progress=bar.update, on_total=total
            )
        else:
            archive = output or Path(f"{asset_id}.zip")
            options.client.save(location, archive, progress=bar.update, on_total=total)
    if not extract:
        checked = options.client.verify(archive, asset)
    where = str(extract or archive)
    options.emit(
        {
            "asset_id": asset_id,
            "asset_version": asset["asset_version"],
            "path": where,
            "verified": checked,
        },
        f"{where} ({len(checked)} files verified)",
    )


def _download_file(
    options: Options, asset_id: str, path: str, output: Path | None, version: str | None
) -> None:
    destination = output or Path(path.rsplit("/", 1)[-1])
    with options.bar(f"download {path}") as bar:
        sha256 = options.client.download_file(
            asset_id,
            path,
            destination,
            bar.update,
            lambda n: setattr(bar, "total", n),
            version=version,
        )
    options.emit(
        {"asset_id": asset_id, "path": str(destination), "verified": [path] if sha256 else []},
        f"{destination} ({'sha256 verified' if sha256 else 'no sha256 recorded: not verified'})",
    )


def _download_files(options: Options, asset_id: str, folder: Path, version: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with options.bar(f"download {asset_id}") as bar:
        checked = options.client.download_files(
            asset_id, folder, bar.update, lambda n: setattr(bar, "total", n), version=version
        )
    options.emit(
        {"asset_id": asset_id, "path": str(folder), "verified": checked},
        f"{folder} ({len(checked)} files verified)",
    )


@main.command()
@click.argument("asset_ref", metavar="ASSET_ID[@VERSION]")
@pass_options
def get(options: Options, asset_ref: str) -> None:
    """Print an asset's metadata (ID@VERSION: that version's, by version or alias)."""
    with reported():
        options.emit(options.registry.get(asset_ref))


@main.command()
@click.argument("asset_id")
@pass_options
def versions(options: Options, asset_id: str) -> None:
    """List an asset's versions, newest first, with their aliases."""
    with reported():
        items = list(options.client.versions(asset_id))
        text = "\n".join(
            f"{v['asset_version']}\t{v['created_at']}\t{v['created_by']}\t"
            f"{v['file_count']} files\t{v['total_bytes']} bytes\t{','.join(v['aliases'])}"
            for v in items
        )
        options.emit(items, text)


@main.command()
@click.argument("asset_id")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", required=False)
@click.option("--delete", "remove", is_flag=True, help="Delete the alias instead.")
@pass_options
def alias(
    options: Options, asset_id: str, alias_name: str, version: str | None, remove: bool
) -> None:
    """Point ALIAS at VERSION of an asset (set or move it), or --delete it."""
    if remove == (version is not None):
        fail("give a VERSION to point the alias at, or --delete (not both)", 2)
    with reported():
        if remove:
            options.emit(
                options.client.delete_alias(asset_id, alias_name), f"deleted alias {alias_name}"
            )
            return
        answer = options.client.set_alias(asset_id, alias_name, str(version))
        options.emit(answer, f"{asset_id}@{alias_name} -> {answer['asset_version']}")


@main.command()
@click.argument("asset_ref")
@click.option("--up", "direction", flag_value="upstream", help="Only what it came from.")
@click.option("--down", "direction", flag_value="downstream", help="Only what came from it.")
@click.option("--depth", type=click.IntRange(1, 10), default=3, show_default=True)
@pass_options
def lineage(options: Options, asset_ref: str, direction: str | None, depth: int) -> None:
    """Print the lineage of ID[@VERSION] as a tree: upstream (what it was trained on,
    derived from...) and downstream (what was made from it)."""
    asset_id, version = split_ref(asset_ref)
    with reported():
        graph = options.client.lineage(
            asset_id, version, direction=direction or "both", depth=depth
        )
        options.emit(graph, lineage_tree(graph, asset_id, version, direction, depth))


def lineage_tree(
    graph: dict[str, Any], asset_id: str, version: str | None, direction: str | None, depth: int
) -> str:
    """The walk as trees from its version: upstream, then downstream."""
    nodes = {node["key"]: node for node in graph["nodes"]}
    start = next(
        (
            key
            for key, node in nodes.items()
            if node["asset_id"] == asset_id and (version is None or key == f"{asset_id}/{version}")
        ),
        next(iter(nodes), ""),
    )
    lines = [_label(nodes.get(start), start)]
    ways = [direction] if direction else ["upstream", "downstream"]
    for way in ways:
        near, far, arrow = ("from", "to", "->") if way == "upstream" else ("to", "from", "<-")
        children: dict[str, list[tuple[str, str]]] = {}
        for edge in graph["edges"]:
            children.setdefault(edge[near], []).append((edge["relation"], edge[far]))
        if len(ways) > 1:
            lines.append(f"{way}:")
        _branches(lines, children, nodes, start, arrow, depth, "", {start})
    return "\n".join(lines)


def _label(node: dict[str, Any] | None, key: str) -> str:
    if node is None:
        return key
    text = f"{node['asset_id']}@{node['asset_version']}"
    if node.get("asset_type"):
        text += f" ({node['asset_type']})"
    if node.get("deleted"):
        text += " [deleted]"
    return text


def _branches(
    lines: list[str],
    children: dict[str, list[tuple[str, str]]],
    nodes: dict[str, dict[str, Any]],
    key: str,
    arrow: str,
    depth: int,
    indent: str,
    path: set[str],
) -> None:
    if depth == 0:
        return
    below = sorted(children.get(key, []))
    for index, (relation, other) in enumerate(below):
        last = index == len(below) - 1
        branch = "└── " if last else "├── "
        lines.append(f"{indent}{branch}{relation} {arrow} {_label(nodes.get(other), other)}")
        if other not in path:
            _branches(
                lines,
                children,
                nodes,
                other,
                arrow,
                depth - 1,
                indent + ("    " if last else "│   "),
                path | {other},
            )


@main.command()
@click.argument("asset_ref")
@click.argument("relation")
@click.argument("target_ref")
@pass_options
def link(options: Options, asset_ref: str, relation: str, target_ref: str) -> None:
    """Record that ID[@VERSION] RELATION TARGET@VERSION (e.g. trained_on, derived_from,
    fine_tuned_from, evaluated_on, depends_on, input_of, output_of, x-<name>)."""
    asset_id, version = split_ref(asset_ref)
    target_id, target_version = split_ref(target_ref)
    if target_version is None:
        fail("name the target's version: TARGET@VERSION", 2)
    with reported():
        edge = options.client.link(asset_id, relation, target_id, str(target_version), version)
        options.emit(edge, f"{edge['from']} {edge['relation']} {edge['to']}")


@main.command()
@click.option("--resource", help="asset, asset_record, asset_registry, component, upload")
@click.option("--id", "resource_id", help="The resource's id")
@click.option("--actor", help="Who wrote")
@click.option("--since", help="At or after this ISO-8601 time")
@pass_options
def audit(
    options: Options,
    resource: str | None,
    resource_id: str | None,
    actor: str | None,
    since: str | None,
) -> None:
    """Print the audit trail, newest first (assets-admin)."""
    with reported():
        items = list(
            options.client.audit(resource=resource, id=resource_id, actor=actor, since=since)
        )
        text = "\n".join(
            f"{r['at']}\t{r['actor']}\t{r['action']}\t{r['resource']}\t{r['id']}"
            + (f"@{r['version']}" if r.get("version") else "")
            + (f"\t{','.join(r['changes'])}" if r.get("changes") else "")
            for r in items
        )
        options.emit(items, text)


@main.command()
@click.argument("asset_id")
@pass_options
def restore(options: Options, asset_id: str) -> None:
    """Restore a deleted asset with its versions and aliases (within the retention)."""
    with reported():
        answer = options.client.restore(asset_id)
        options.emit(answer, f"restored {asset_id} (current: {answer['asset_version']})")


@main.command()
@click.argument("filter_json")
@click.option("--page-size", type=click.IntRange(1, 1000), default=100, show_default=True)
@pass_options
def search(options: Options, filter_json: str, page_size: int) -> None:
    """Search with a MongoDB-style filter, following every page."""
    with reported():
        filters = parse_json(filter_json, "FILTER_JSON")
        items = list(options.registry.search(filters, page_size=page_size))
        text = "\n".join(f"{a['asset_id']}\t{a['asset_version']}\t{a['asset_uri']}" for a in items)
        options.emit(items, text)


@main.command()
@click.argument("asset_id")
@pass_options
def delete(options: Options, asset_id: str) -> None:
    """Delete an asset (restorable with `assets restore` for the retention days)."""
    with reported():
        answer = options.client.delete(asset_id)
        until = answer.get("restorable_until")
        options.emit(
            answer, f"deleted {asset_id}" + (f" (restorable until {until})" if until else "")
        )


@main.command()
@click.argument("query")
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A variable; VALUE is parsed as JSON when it can be.",
)
@click.option("--service", type=click.Choice(["registry", "components"]), default="registry")
@pass_options
def gql(options: Options, query: str, variables: tuple[str, ...], service: str) -> None:
    """Run a read-only GraphQL query."""
    values: dict[str, Any] = {}
    for item in variables:
        name, sep, raw = item.partition("=")
        if not sep:
            fail(f"--var takes NAME=VALUE, not '{item}'", 2)
        try:
            values[name] = json.loads(raw)
        except json.JSONDecodeError:
            values[name] = raw
    path = "/registry/graphql" if service == "registry" else "/components/gql"
    with reported():
        options.emit(options.client.graphql(query, values, path))


@main.command()
@click.option(
    "--auth-domain", help="AWS: the stack's AuthDomain output (Cognito's sign-in domain)."
)
@click.option("--client-id", help="AWS: the stack's CliClientId output.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("openid",),
    show_default=True,
    help="AWS: a scope to ask for (repeat for more).",
)
@click.option("--sub", default=None, help="Local stack: the subject of the token.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["assets-reader", "assets-writer", "assets-admin"]),
    help="Local stack: a role of the token (repeat for more; default assets-writer).",
)
@click.option("--expires-in", default=3600, show_default=True, help="Local stack: seconds.")
@click.option("--timeout", default=300.0, show_default=True, help="AWS: seconds to sign in.")
@pass_options
def login(
    options: Options,
    auth_domain: str | None,
    client_id: str | None,
    scopes: tuple[str, ...],
    sub: str | None,
    roles: tuple[str, ...],
    expires_in: int,
    timeout: float,
) -> None:
    """Sign in and keep the token for the next commands (mode 0600 in the config dir).

    Against AWS give --auth-domain and --client-id: the browser signs you in (authorization
    code with PKCE, callback on http://localhost:8765/callback). Against the local stack give
    --sub (and --role): its token route mints one."""
    from assets_client import login as signin

    endpoint = options.client.endpoint
    try:
        if auth_domain or client_id:
            if not (auth_domain and client_id):
                fail("--auth-domain and --client-id go together", 2)
            tokens = signin.pkce_login(
                auth_domain,
                client_id,
                list(scopes),
                show=_show_sign_in,
                timeout=timeout,
            )
        else:
            if not sub:
                fail("give --sub (local stack) or --auth-domain and --client-id (AWS)", 2)
            tokens = signin.local_token(
                endpoint, sub, list(roles or ("assets-writer",)), expires_in
            )
    except signin.LoginFailed as exc:
        fail(f"login failed: {exc}", EXIT_REFUSED)
    path = signin.save(endpoint, tokens["access_token"], int(tokens.get("expires_in") or 3600))
    options.emit(
        {"endpoint": endpoint, "token_file": str(path), "expires_in": tokens.get("expires_in")},
        f"signed in to {endpoint}; the token is in {path}",
    )


def _show_sign_in(url: str) -> None:
    click.echo(f"Sign in at: {url}", err=True)
    import webbrowser

    with suppress(webbrowser.Error):  # no browser here: the printed URL is enough
        webbrowser.open(url)


@main.command()
@pass_options
def logout(options: Options) -> None:
    """Forget the token ``assets login`` saved."""
    from assets_client import login as signin

    removed = signin.forget()
    options.emit({"removed": removed}, "signed out" if removed else "no saved token")


@main.group()
def db() -> None:
    """The Assets DB: files with metadata."""


@db.command("upload")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--metadata", default="{}", help="The asset's metadata as JSON.")
@PARALLEL
@RESUME
@pass_options
def db_upload(
    options: Options, path: Path, metadata: str, parallel: int, resume_id: str | None
) -> None:
    """Upload a file (presigned for large ones, in parts past 100 MiB)."""
    with reported(), options.bar(f"upload {path.name}") as bar:
        bar.total = path.stat().st_size
        if resume_id:
            session = options.client.resume_upload(
                resume_id, path, base="/assetdb/uploads", parallel=parallel, progress=bar.update
            )
            options.emit(session, f"{resume_id}\t{session['status']}")
            return
        record = options.client.db_upload(
            path, parse_json(metadata, "--metadata"), progress=bar.update, parallel=parallel
        )
    options.emit(record, f"{record['asset_id']}\t{record['asset_uri']}")


@db.command("get")
@click.argument("uri")
@pass_options
def db_get(options: Options, uri: str) -> None:
    """Print an asset by its asset_uri."""
    with reported():
        options.emit(options.client.db_get(uri))


@db.command("object")
@click.argument("asset_id")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@pass_options
def db_object(options: Options, asset_id: str, output: Path) -> None:
    """Download an asset's file."""
    with reported():
        options.client.db_object(asset_id, output)
    options.emit({"asset_id": asset_id, "path": str(output)}, str(output))


@db.command("query")
@click.argument("filter_json")
@pass_options
def db_query(options: Options, filter_json: str) -> None:
    """Query assets (plain or operator form)."""
    with reported():
        options.emit(list(options.client.db_query(parse_json(filter_json, "FILTER_JSON"))))


@main.group()
def component() -> None:
    """The Component registry."""


@component.command("register")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_options
def component_register(options: Options, path: Path) -> None:
    """Register a component from a JSON file."""
    with reported():
        created = options.client.component_register(parse_json(path.read_text(), str(path)))
    options.emit(created, created["componentURI"])


@component.command("get")
@click.argument("uri")
@pass_options
def component_get(options: Options, uri: str) -> None:
    """Print a component by its componentURI."""
    with reported():
        options.emit(options.client.component_get(uri))


@component.command("query")
@click.argument("filter_json")
@pass_options
def component_query(options: Options, filter_json: str) -> None:
    """Query components with a MongoDB-style filter."""
    with reported():
        options.emit(list(options.client.component_query(parse_json(filter_json, "FILTER_JSON"))))


def _json_anywhere(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    options = ctx.find_object(Options)
    if value and options is not None:
        options.as_json = True


def _accept_json_after(group: click.Group) -> None:
    """``--json`` also after a subcommand (``assets upload DIR --json``), as people type it."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _accept_json_after(command)
        elif not any("--json" in param.opts for param in command.params):
            command.params.append(
                click.Option(
                    ["--json"],
                    is_flag=True,
                    expose_value=False,
                    is_eager=True,
                    callback=_json_anywhere,
                    help="Machine-readable output, no progress bars.",
                )
            )


_accept_json_after(main)
