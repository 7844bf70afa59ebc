"""What ``sheetqueue check`` says about the shopper templates, before a shopper reads them.

Two mistakes reach shoppers silently, so both fail the check:

- an unknown placeholder (``Hola $nombre``): ``string.Template`` leaves it in
  the text as it is, and the shopper reads ``$nombre``;
- a generic file of the store's (``done.txt`` in ``templates_dir``) that a
  built-in per-type file (``done.refund.txt``) shadows: refund shoppers would
  never see the store's words. The fix is to copy them into that file too.

Files in language folders (``es/done.txt``) are checked for placeholders the
same way; a folder whose name is not a language code is a problem too.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from sheetqueue.worker.notify.message import LANGUAGE
from sheetqueue.worker.notify.templates import PLACEHOLDER, placeholder_names

__all__ = ["template_problems"]

_LAYOUT_PLACEHOLDERS = frozenset({"subject", "store_name", "body"})
_SUFFIXES = (".txt", ".html")


def template_problems(override_dir: Path | None) -> list[str]:
    """One line per problem in the store's templates and the built-in ones; empty: all fine."""
    known = placeholder_names()
    problems: list[str] = []
    for name, text in _templates(override_dir):
        allowed = _LAYOUT_PLACEHOLDERS if name.endswith("layout.html") else known
        used = {m.group("braced") or m.group("named") for m in PLACEHOLDER.finditer(text)}
        problems.extend(f"{name}: unknown placeholder ${word}" for word in sorted(used - allowed))
    if override_dir is not None and override_dir.is_dir():
        problems.extend(_shadowed(override_dir))
        problems.extend(
            f"{folder.name}/: not a language code (use en, es, pt-BR, ...)"
            for folder in sorted(override_dir.iterdir())
            if folder.is_dir() and not LANGUAGE.match(folder.name)
        )
    return problems


def _packaged() -> Traversable:
    return resources.files("sheetqueue.worker").joinpath("templates")


def _templates(override_dir: Path | None) -> Iterator[tuple[str, str]]:
    for entry in _packaged().iterdir():
        if entry.name.endswith(_SUFFIXES):
            yield f"(built-in) {entry.name}", entry.read_text(encoding="utf-8")
    if override_dir is None or not override_dir.is_dir():
        return
    for path in sorted(override_dir.rglob("*")):
        if path.is_file() and path.name.endswith(_SUFFIXES):
            yield str(path.relative_to(override_dir)), path.read_text(encoding="utf-8")


def _shadowed(override_dir: Path) -> Iterator[str]:
    """A store's generic file that a built-in, more specific file would win over."""
    built_in = {entry.name for entry in _packaged().iterdir() if entry.name.endswith(".txt")}
    ours = {path.name for path in override_dir.glob("*.txt")}
    for name in sorted(ours):
        stem = name.removesuffix(".txt")
        if stem in ("default", "layout"):
            continue
        winners = [other for other in sorted(built_in - ours) if other.startswith(stem + ".")]
        if winners:
            kinds = ", ".join(other.removesuffix(".txt").split(".", 1)[1] for other in winners)
            yield (
                f"{name} is shadowed by built-in per-type files ({', '.join(winners)}): "
                f"{kinds} requests never see it; put your words in those files too"
            )
