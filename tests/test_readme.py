"""The README's entity table matches what the integration creates, and names every entity."""

import json

from scripts import entity_table


def test_readme_entity_table_is_current() -> None:
    readme = entity_table.README.read_text(encoding="utf-8")
    generated = entity_table.replace_block(readme, entity_table.table())
    assert generated == readme, "run `python -m scripts.entity_table --write`"


def test_every_translated_entity_has_a_row_and_a_note() -> None:
    translations = json.loads(entity_table.TRANSLATIONS.read_text(encoding="utf-8"))
    named = {
        f"{platform}.{key}"
        for platform, entities in translations["entity"].items()
        for key in entities
    }
    rows = [row.key for row in entity_table.rows()]
    assert len(rows) == len(set(rows))
    assert set(rows) == named
    assert set(entity_table.WHEN) == named
    assert set(entity_table.VALUE) <= named


def test_table_rows_are_well_formed() -> None:
    lines = entity_table.table().splitlines()
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
    assert {line.count(" | ") for line in lines} == {4}
