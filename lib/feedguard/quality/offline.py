"""Make the GX Data Docs site work offline: vendored CSS, JS and fonts instead of public CDNs.

GX 1.x pages load Bootstrap, jQuery, bootstrap-table (which draws the index's list of validation
results), the date picker and Font Awesome from CDNs. :func:`localize_site` copies the files vendored
under ``feedguard/quality/assets/gx`` (see its README for versions and licences) into
``<site>/static/vendor`` and rewrites every GX page to load them by relative path; the ``integrity`` and
``crossorigin`` attributes go too (a ``file://`` page has no origin, so a CORS-mode load would fail).

Example::

    localize_site(Path("lake/_docs"))   # after context.build_data_docs()
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)
ASSETS: Final = Path(__file__).with_name("assets") / "gx"
VENDOR_DIR: Final = "static/vendor"
SKIP_FOLDERS: Final = frozenset({"feedguard", "health", "static"})  # our pages, and the assets themselves

# CDN URL -> the vendored file (relative to ASSETS).
CDN_FILES: Final = {
    "https://code.jquery.com/jquery-3.4.1.min.js": "js/jquery-3.4.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper-1.12.9.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap-4.3.1.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "js/bootstrap-table-1.19.1.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "js/bootstrap-table-filter-control-1.19.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "js/bootstrap-datepicker-1.9.0.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap-4.3.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "css/bootstrap-table-1.19.1.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "css/bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": "css/bootstrap-table-filter-control-1.19.1.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "css/bootstrap-datepicker-1.9.0.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "css/bootstrap-prefers-dark-1.1.0.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "css/fontawesome-6.6.0-all.min.css"
    ),
}
# GX's logo (and its tracking query) from its web-assets bucket: the copy GX ships is used instead.
_GX_LOGO: Final = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/[A-Za-z0-9_.-]+\.png(?:\?[^\"')]*)?"
)
LOGO: Final = "img/logo-long.png"
_VEGA_SCRIPT: Final = re.compile(r'<script src="https://cdn\.jsdelivr\.net/npm/vega[^"]*"></script>\s*')
_CORS_ATTRS: Final = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
_REMOTE: Final = re.compile(r"""(?:src=|<link[^>]*href=|url\()["']?(https?://[^"')\s]+)""")


def copy_assets(site_dir: Path) -> Path:
    """Copy the vendored files to ``<site>/static/vendor``; return that folder."""
    target = site_dir / VENDOR_DIR
    shutil.copytree(ASSETS, target, dirs_exist_ok=True)
    (target / LOGO).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(gx_logo(), target / LOGO)
    return target


def gx_logo() -> Path:
    """The logo image that the installed GX package ships."""
    import great_expectations

    return (
        Path(great_expectations.__file__).parent / "render" / "view" / "static" / "images" / "logo-long.png"
    )


def localize_page(text: str, prefix: str) -> str:
    """One page's text with every CDN asset replaced by ``<prefix><vendored file>``.

    >>> localize_page('<script src="https://code.jquery.com/jquery-3.4.1.min.js"></script>', "../")
    '<script src="../js/jquery-3.4.1.min.js"></script>'
    """
    if "vegaEmbed(" not in text:
        text = _VEGA_SCRIPT.sub("", text)
    for url, local in CDN_FILES.items():
        text = text.replace(f'"{url}"', f'"{prefix}{local}"')
    text = _GX_LOGO.sub(prefix + LOGO, text)
    return _CORS_ATTRS.sub("", text)


def remote_assets(text: str) -> list[str]:
    """The scripts, stylesheets, images and CSS ``url()`` a page still loads over the network."""
    return _REMOTE.findall(text)


def localize_site(site_dir: Path) -> int:
    """Vendor the assets and rewrite every GX page under ``site_dir``; return how many pages changed."""
    vendor = copy_assets(site_dir)
    changed = 0
    for page in sorted(site_dir.rglob("*.html")):
        if page.relative_to(site_dir).parts[0] in SKIP_FOLDERS:
            continue
        text = page.read_text(encoding="utf-8")
        prefix = os.path.relpath(vendor, page.parent).replace(os.sep, "/") + "/"
        new = localize_page(text, prefix)
        left = remote_assets(new)
        if left:
            log.warning(
                "%s still loads %s: not vendored, needs the network", page, ", ".join(sorted(set(left)))
            )
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed
