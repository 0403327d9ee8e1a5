"""Which translation keys each language lacks, so keys added to en.json get translated quickly.

``python -m scripts.translation_keys`` prints, per language file, the keys missing against
``translations/en.json`` (with the English text to translate), the keys en.json no longer has,
the strings whose ``{placeholders}`` differ from English, and apostrophes that would hide a brace.
It exits 1 when anything is listed.
tests/test_translations.py runs the same checks.
"""

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
TRANSLATIONS: Final = ROOT / "custom_components" / "bambu_printer" / "translations"
PLACEHOLDER: Final = re.compile(r"\{([^{}]*)\}")
# The frontend formats strings as ICU messages: an apostrophe right before a brace starts a
# quoted literal and would swallow the placeholder.
QUOTED_BRACE: Final = re.compile(r"'[{}]")


@dataclass(frozen=True)
class Problem:
    """One difference between a language file and en.json, named by file and key."""

    file: str
    key: str
    kind: str
    detail: str

    def __str__(self) -> str:
        """One line a translator can act on."""
        return f"{self.file}: {self.kind} {self.key}: {self.detail}"


def flatten(tree: object, prefix: str = "") -> dict[str, str]:
    """Dotted key -> text, because nesting differences are key differences too."""
    if isinstance(tree, str):
        return {prefix: tree}
    if not isinstance(tree, dict):
        raise TypeError(f"{prefix or '<root>'}: expected text or an object, got {tree!r}")
    flat: dict[str, str] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def load(path: Path) -> dict[str, str]:
    """Read the strings by dotted key; a ValueError names the file when it is not usable."""
    try:
        tree = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name}: not valid JSON: {err}") from err
    try:
        return flatten(tree)
    except TypeError as err:
        raise ValueError(f"{path.name}: {err}") from err


def placeholders(text: str) -> list[str]:
    """List placeholder names, sorted: Home Assistant fills them by name, so order may differ."""
    return sorted(set(PLACEHOLDER.findall(text)))


def compare(file: str, english: Mapping[str, str], other: Mapping[str, str]) -> list[Problem]:
    """Missing keys, extra keys and placeholder mismatches of one language against English."""
    problems = [
        Problem(file, key, "missing", repr(english[key])) for key in english if key not in other
    ]
    problems += [
        Problem(file, key, "extra", "en.json has no such key")
        for key in other
        if key not in english
    ]
    for key, text in other.items():
        if key not in english:
            continue
        want, have = placeholders(english[key]), placeholders(text)
        if want != have:
            problems.append(
                Problem(file, key, "placeholders", f"English has {want}, this file has {have}")
            )
        if QUOTED_BRACE.search(text):
            problems.append(
                Problem(
                    file, key, "apostrophe", "an apostrophe before a brace hides it (use U+2019)"
                )
            )
    return problems


def language_files(directory: Path = TRANSLATIONS) -> list[Path]:
    """Every translation except en.json, sorted so reports are stable."""
    return sorted(path for path in directory.glob("*.json") if path.name != "en.json")


def check(directory: Path = TRANSLATIONS) -> list[Problem]:
    """All problems of all language files in ``directory`` (invalid JSON is one problem)."""
    english = load(directory / "en.json")
    problems: list[Problem] = []
    for path in language_files(directory):
        try:
            other = load(path)
        except ValueError as err:
            problems.append(Problem(path.name, "<file>", "invalid", str(err)))
            continue
        problems += compare(path.name, english, other)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Print the problems per language; exit 1 when there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=TRANSLATIONS, help="translations folder")
    args = parser.parse_args(argv)
    problems = check(args.dir)
    for problem in problems:
        sys.stdout.write(f"{problem}\n")
    if not problems:
        count = len(language_files(args.dir))
        sys.stdout.write(f"{count} languages: every key of en.json present, placeholders equal\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
