import pytest

from dagruns.sdk.exceptions import DagDefinitionError
from dagruns.sdk.ids import validate_group_key, validate_key


@pytest.mark.parametrize("key", ["etl", "etl_daily-v2.0", "A" * 250])
def test_it_accepts_ids_made_of_the_allowed_alphabet(key):
    assert validate_key(key) == key


@pytest.mark.parametrize("key", ["with space", "slash/id", "ümlaut", "semi;colon", ""])
def test_it_rejects_ids_with_other_characters(key):
    with pytest.raises(DagDefinitionError, match="alphanumeric"):
        validate_key(key, "dag_id")


def test_it_rejects_ids_longer_than_250_characters():
    with pytest.raises(DagDefinitionError, match="at most 250"):
        validate_key("a" * 251, "task_id")


def test_it_rejects_a_non_string_id():
    with pytest.raises(DagDefinitionError, match="must be a string"):
        validate_key(42, "dag_id")


def test_group_ids_may_not_contain_dots_because_dots_separate_the_prefix():
    assert validate_group_key("extract-1") == "extract-1"
    with pytest.raises(DagDefinitionError, match="group_id"):
        validate_group_key("extract.one")
