"""The supervisor's secrets masker."""

from __future__ import annotations

import json

from dagruns.sdk.masking import SecretsMasker


def test_a_connection_password_is_masked_wherever_it_appears():
    masker = SecretsMasker()
    masker.add_connection({"conn_id": "db", "password": "hunter2-pass", "login": "admin"})

    assert masker.mask("login admin with hunter2-pass!") == "login admin with ***!"


def test_sensitive_extra_entries_are_masked_and_others_are_not():
    masker = SecretsMasker()
    extra = {"api_key": "extra-secret-1", "region": "eu-west-1", "nested": {"token": "tok-98765"}}
    masker.add_connection({"conn_id": "svc", "password": None, "extra": json.dumps(extra)})

    assert masker.mask("extra-secret-1 eu-west-1 tok-98765") == "*** eu-west-1 ***"


def test_a_variable_is_masked_only_when_its_key_is_sensitive():
    masker = SecretsMasker()
    masker.add_variable("api_token", "abcdef-123")
    masker.add_variable("region", "eu-central-1")

    assert masker.mask("abcdef-123 in eu-central-1") == "*** in eu-central-1"


def test_a_sensitive_json_variable_masks_its_leaves_too():
    masker = SecretsMasker()
    masker.add_variable("db_password", json.dumps({"user": "someone", "pw": "leafsecret"}))

    assert masker.mask("{'user': 'someone', 'pw': 'leafsecret'}") == "{'user': '***', 'pw': '***'}"


def test_short_values_are_not_masked():
    masker = SecretsMasker()
    masker.add("abc")

    assert masker.mask("abc def") == "abc def"
    assert len(masker) == 0


def test_escaped_and_url_quoted_forms_are_masked():
    masker = SecretsMasker()
    masker.add('p@ss/"word"')

    assert masker.mask("url: p%40ss%2F%22word%22") == "url: ***"
    assert masker.mask('json: "p@ss/\\"word\\""') == 'json: "***"'


def test_each_line_of_a_multiline_secret_is_masked():
    masker = SecretsMasker()
    masker.add("-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----")

    assert masker.mask("AAAABBBBCCCC") == "***"


def test_the_longest_secret_wins_when_one_contains_another():
    masker = SecretsMasker()
    masker.add("secret")
    masker.add("secret-and-more")

    assert masker.mask("secret-and-more") == "***"


def test_redact_masks_strings_and_values_under_sensitive_names():
    masker = SecretsMasker()
    masker.add("hunter2-pass")
    rendered = {
        "bash_command": "psql -p hunter2-pass",
        "env": {"API_KEY": "anything", "HOME": "/tmp"},
        "op_args": ["hunter2-pass", 3],
    }

    assert masker.redact(rendered) == {
        "bash_command": "psql -p ***",
        "env": {"API_KEY": "***", "HOME": "/tmp"},
        "op_args": ["***", 3],
    }
    assert masker.redact(None) is None


def test_nothing_registered_leaves_lines_alone():
    assert SecretsMasker().mask("plain line") == "plain line"
