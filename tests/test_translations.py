"""Every language file has en.json's keys and placeholders, is JSON, and is really translated."""

import json
import shutil
from pathlib import Path
from typing import Final

import pytest
from homeassistant.generated.languages import LANGUAGES

from scripts import translation_keys
from scripts.translation_keys import PLACEHOLDER, TRANSLATIONS, Problem, check, load

EXPECTED: Final = {"cs", "de", "es", "fr", "it", "ja", "nl", "pl", "pt-BR", "sv", "zh-Hans"}

# Texts that are the same word in English and in that language (checked in Bambu Studio's own
# translation or the language's ordinary usage), not forgotten translations. Keep this narrow:
# a text listed here may stay English only in that language.
SAME_IN: Final[dict[str, frozenset[str]]] = {
    "de": frozenset(
        {"Codes", "Global", "Host", "Host (optional)", "Offline", "Online", "Region", "Sport"}
        | {"Standard", "Transparent", "Firmware", "Laser"}
    ),
    "fr": frozenset(
        {"Codes", "Global", "Sport", "Standard", "Transparent", "Firmware", "G-code", "Laser"}
        | {"Module", "Timelapse"}
    ),
    "es": frozenset({"Global", "Host", "Error", "Firmware", "G-code", "Timelapse"}),
    "it": frozenset(
        {"Host", "Ludicrous", "Online", "Password", "Slicing", "Sport", "Standard", "Firmware"}
        | {"G-code", "Laser", "File"}
    ),
    "nl": frozenset(
        {"Camera", "Codes", "Host", "Ludicrous", "Offline", "Online", "Printers", "Sport"}
        | {"Firmware", "G-code", "Laser", "Module", "Printer", "Timelapse"}
    ),
    "pl": frozenset(
        {"Host", "Offline", "Online", "Region", "Sport", "Standard", "Firmware", "G-code", "Laser"}
    ),
    "pt-BR": frozenset({"Global", "Host", "Firmware", "G-code", "Laser"}),
    "cs": frozenset({"Offline", "Online", "Sport", "Standard", "Firmware", "Laser", "Timelapse"}),
    "sv": frozenset(
        {"Global", "Offline", "Online", "Region", "Sport", "Standard", "Transparent", "Laser"}
        | {"Timelapse"}
    ),
    "zh-Hans": frozenset({"G-code"}),
    "ja": frozenset({"G-code"}),
}
# Product names that stay as they are in every language.
SAME_EVERYWHERE: Final = frozenset(
    {"AMS", "HMS", "MQTT", "Bambu Lab", "Bambu Studio", "Bambu Handy"}
)


def untranslated(language: str, english: dict[str, str], other: dict[str, str]) -> list[str]:
    """Keys whose text is still the English one and is not a word the language shares."""
    allowed = SAME_EVERYWHERE | SAME_IN.get(language, frozenset())
    return [
        key
        for key, text in other.items()
        if english.get(key) == text
        and text not in allowed
        and any(c.isalpha() for c in PLACEHOLDER.sub("", text))
    ]


def test_the_languages_are_there_under_home_assistant_codes() -> None:
    """File names must be Home Assistant's language codes, or the frontend never loads them."""
    names = {path.stem for path in translation_keys.language_files()}
    assert names == EXPECTED
    assert names <= set(LANGUAGES)


def test_every_language_has_the_keys_and_placeholders_of_english() -> None:
    """A missing key shows English; an extra or mis-named placeholder breaks the string."""
    problems = check()
    assert not problems, "\n".join(str(problem) for problem in problems)


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_no_text_is_left_in_english(language: str) -> None:
    """A string equal to English is a missed translation unless it is listed as shared."""
    english = load(TRANSLATIONS / "en.json")
    other = load(TRANSLATIONS / f"{language}.json")
    left = untranslated(language, english, other)
    assert not left, f"{language}.json: still English: " + ", ".join(
        f"{key}={other[key]!r}" for key in left
    )


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_the_shared_word_list_is_used(language: str) -> None:
    """An allow-list entry no string needs would let a later missed translation slip through."""
    english = load(TRANSLATIONS / "en.json")
    other = load(TRANSLATIONS / f"{language}.json")
    same = {text for key, text in other.items() if english.get(key) == text}
    assert SAME_IN[language] <= same, f"{language}: unused {sorted(SAME_IN[language] - same)}"


def _copy(tmp_path: Path) -> Path:
    """A private copy of the translations folder to break."""
    target = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, target)
    return target


def _edit(path: Path, dotted: str, value: str | None) -> None:
    """Set (or with None delete) one dotted key in a JSON file."""
    tree = json.loads(path.read_text(encoding="utf-8"))
    *parents, last = dotted.split(".")
    node = tree
    for part in parents:
        node = node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    path.write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")


def test_a_missing_key_is_named_with_file_and_key(tmp_path: Path) -> None:
    """The check must fail on a broken copy, or it proves nothing about the real files."""
    folder = _copy(tmp_path)
    _edit(folder / "de.json", "config.abort.already_configured", None)
    assert check(folder) == [
        Problem(
            "de.json",
            "config.abort.already_configured",
            "missing",
            repr("This printer is already set up."),
        )
    ]


def test_an_extra_key_is_named(tmp_path: Path) -> None:
    """Keys en.json dropped must go from the languages too."""
    folder = _copy(tmp_path)
    _edit(folder / "fr.json", "config.abort.gone", "Parti")
    assert [str(p) for p in check(folder)] == [
        "fr.json: extra config.abort.gone: en.json has no such key"
    ]


def test_a_changed_placeholder_is_named(tmp_path: Path) -> None:
    """A translated placeholder name would show up literally in Home Assistant."""
    folder = _copy(tmp_path)
    _edit(folder / "fr.json", "config.step.reauth_confirm.title", "Nouveau code pour {nom}")
    problems = check(folder)
    assert [(p.file, p.key, p.kind) for p in problems] == [
        ("fr.json", "config.step.reauth_confirm.title", "placeholders")
    ]
    assert "['name']" in problems[0].detail
    assert "['nom']" in problems[0].detail


def test_an_apostrophe_before_a_placeholder_is_named(tmp_path: Path) -> None:
    """In an ICU message, '{ starts a quoted literal: the placeholder would never be filled."""
    folder = _copy(tmp_path)
    _edit(folder / "fr.json", "config.step.reconfigure.title", "Reconfigurer l'{name}")
    assert [(p.key, p.kind) for p in check(folder)] == [
        ("config.step.reconfigure.title", "apostrophe")
    ]


def test_invalid_json_is_named(tmp_path: Path) -> None:
    """A broken file would make Home Assistant drop the whole language."""
    folder = _copy(tmp_path)
    (folder / "de.json").write_text('{"config": ', encoding="utf-8")
    problems = check(folder)
    assert [(p.file, p.kind) for p in problems] == [("de.json", "invalid")]
    assert "not valid JSON" in problems[0].detail


def test_an_english_leftover_is_found() -> None:
    """The leftover check must catch a copied English sentence."""
    english = load(TRANSLATIONS / "en.json")
    other = load(TRANSLATIONS / "de.json")
    other["config.abort.already_configured"] = english["config.abort.already_configured"]
    assert untranslated("de", english, other) == ["config.abort.already_configured"]


def test_the_script_lists_missing_keys_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a merge adds keys, the script is how a translator finds them."""
    folder = _copy(tmp_path)
    _edit(folder / "en.json", "config.abort.new_reason", "A new reason.")
    assert translation_keys.main(["--dir", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXPECTED)
    assert "de.json: missing config.abort.new_reason: 'A new reason.'" in lines
    assert translation_keys.main([]) == 0
    assert f"{len(EXPECTED)} languages" in capsys.readouterr().out
