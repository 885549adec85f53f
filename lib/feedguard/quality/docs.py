"""Build the analysts' site: GX Data Docs plus our own pages, under ``<lake>/_docs`` or on S3.

GX renders every stored validation result (``<context_root>/gx/uncommitted/validations``) with a
``SiteBuilder`` whose filesystem store backend is rooted at ``<lake>/_docs``; our pages go to
``<lake>/_docs/feedguard/`` (``index.html`` and ``<source>.html``) and link to GX's pages. For an
``s3://`` lake (or when ``s3_target`` is given) the site is built locally and uploaded with boto3,
since GX 1.13+ no longer writes Data Docs to S3 itself.

Example::

    index = build_docs("lake", context_root="lake/_gx")   # lake/_docs/feedguard/index.html
"""

from __future__ import annotations

import mimetypes
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from feedguard.lake.storage import is_s3, join, local_path
from feedguard.quality.context import DOCS_SITE, open_context
from feedguard.quality.offline import localize_site
from feedguard.quality.pages import index_page, source_page
from feedguard.summary import RunSummary, summary_from_json

OUR_FOLDER = "feedguard"
LATEST_RUNS = 30


def _site_config(site_dir: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_how_to_buttons": False},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
    }


def build_gx_site(context_root: str, site_dir: Path) -> Path:
    """Render GX Data Docs for every stored validation result into ``site_dir``; return its index."""
    context = open_context(context_root)
    config = _site_config(site_dir)
    sites = context.config.data_docs_sites or {}
    if DOCS_SITE not in sites:
        context.add_data_docs_site(site_name=DOCS_SITE, site_config=config)
    elif sites[DOCS_SITE].get("store_backend", {}).get("base_directory") != str(site_dir):
        context.update_data_docs_site(site_name=DOCS_SITE, site_config=config)
    context.build_data_docs(site_names=[DOCS_SITE])
    localize_site(site_dir)  # vendored CSS/JS instead of CDNs: the pages work offline
    return site_dir / "index.html"


def _s3_parts(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.strip("/")


def _s3(client: Any | None) -> Any:
    if client is not None:
        return client
    import boto3

    return boto3.client("s3")


def read_run_summaries(lake_path: str, *, s3_client: Any | None = None) -> list[RunSummary]:
    """Every ``<lake>/_runs/<run_id>.json`` run summary (local folder or S3 prefix)."""
    folder = join(lake_path, "_runs")
    if not is_s3(folder):
        return [
            summary_from_json(p.read_text(encoding="utf-8"))
            for p in sorted(local_path(folder).glob("*.json"))
        ]
    client = _s3(s3_client)
    bucket, prefix = _s3_parts(folder)
    summaries = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith(".json") and "/" not in key[len(prefix) + 1 :]:
                body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
                summaries.append(summary_from_json(body))
    return summaries


def gx_result_links(site_dir: Path) -> dict[str, str]:
    """run id -> link (relative to our folder) to GX's validation page of that run."""
    links: dict[str, str] = {}
    for page in sorted((site_dir / "validations").glob("**/*.html")):
        parts = page.relative_to(site_dir).parts
        if len(parts) >= 4:
            links[parts[-3]] = "../" + "/".join(parts)
    return links


def write_our_pages(site_dir: Path, runs: list[RunSummary], *, latest: int = LATEST_RUNS) -> Path:
    """``feedguard/index.html`` and one ``feedguard/<source>.html`` per source; return the index."""
    folder = site_dir / OUR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[RunSummary]] = defaultdict(list)
    for run in runs:
        by_source[str(run.get("source", "unknown"))].append(run)
    links = gx_result_links(site_dir)
    for source, source_runs in by_source.items():
        newest = sorted(source_runs, key=lambda r: str(r.get("started_at", "")))[-latest:]
        by_source[source] = newest
        (folder / f"{source}.html").write_text(source_page(source, newest, links), encoding="utf-8")
    index = folder / "index.html"
    index.write_text(index_page(by_source), encoding="utf-8")
    return index


def upload_site(site_dir: Path, s3_target: str, *, s3_client: Any | None = None) -> int:
    """Upload every file of the built site under the ``s3://`` prefix; return how many."""
    client = _s3(s3_client)
    bucket, prefix = _s3_parts(s3_target)
    count = 0
    for path in sorted(p for p in site_dir.rglob("*") if p.is_file()):
        key = "/".join(filter(None, [prefix, path.relative_to(site_dir).as_posix()]))
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        client.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
        count += 1
    return count


def build_docs(
    lake_path: str,
    *,
    context_root: str,
    s3_target: str | None = None,
    s3_client: Any | None = None,
    latest: int = LATEST_RUNS,
    extra_pages: Callable[[Path], object] | None = None,
) -> str:
    """Build GX Data Docs and our pages; return our index (its ``s3://`` URI once uploaded).

    A local lake is built in place under ``<lake>/_docs``; an ``s3://`` lake is built under
    ``<context_root>/_docs`` and uploaded to ``<lake>/_docs`` (or ``s3_target``). ``extra_pages`` is
    called with the site folder before the upload (the health site, :mod:`feedguard.health`).
    """
    target = s3_target or (join(lake_path, "_docs") if is_s3(lake_path) else None)
    site_dir = (
        Path(context_root) / "_docs" if is_s3(lake_path) else local_path(join(lake_path, "_docs"))
    ).resolve()
    site_dir.mkdir(parents=True, exist_ok=True)
    build_gx_site(context_root, site_dir)
    index = write_our_pages(site_dir, read_run_summaries(lake_path, s3_client=s3_client), latest=latest)
    if extra_pages is not None:
        extra_pages(site_dir)
    if target is None:
        return str(index)
    upload_site(site_dir, target, s3_client=s3_client)
    return target.rstrip("/") + f"/{OUR_FOLDER}/index.html"
