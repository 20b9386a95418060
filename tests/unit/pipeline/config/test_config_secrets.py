"""Secrets: which keys, masking on the way out, keeping the stored secret for a posted mask."""

import copy

import pytest

from edge.pipeline.config.secrets import MASK, is_secret_key, mask_secrets, restore_secrets


def stored() -> dict:
    return {
        "data_receiver": [
            {"data_receiver_name": "share", "protocol": "smb",
             "connections": [{"host": "10.0.0.5", "username": "u", "password": "first-pw", "shared_folder": "a"},
                             {"host": "10.0.0.6", "username": "u", "password": "second-pw", "shared_folder": "b"}]},
            {"data_receiver_name": "db", "protocol": "sql",
             "connections": [{"host": "db", "username": "r", "password": "db-pw", "database_type": "mysql",
                              "database_name": "x"}]},
        ],
        "transforms": [],
        "data_transmit": [{"transmit_name": "cloud", "base_url": "https://a.sightmachine.io", "API_key": "key-1",
                           "API_key_ID": "id-1"}],
    }


@pytest.mark.parametrize("key", ["password", "API_key", "api_key", "proxy_password", "client_secret", "token",
                                 "access_token", "passphrase", "private_key", "apikey", "PASSWORD"])
def test_secret_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["API_key_ID", "username", "passwords_file", "token_count", "host", "secretary"])
def test_keys_that_are_not_secrets(key):
    assert not is_secret_key(key)


def test_mask_replaces_every_secret_and_nothing_else():
    masked = mask_secrets(stored())
    assert [c["password"] for c in masked["data_receiver"][0]["connections"]] == [MASK, MASK]
    assert masked["data_receiver"][1]["connections"][0]["password"] == MASK
    assert masked["data_transmit"][0]["API_key"] == MASK
    assert masked["data_transmit"][0]["API_key_ID"] == "id-1"
    assert masked["data_receiver"][0]["connections"][0]["username"] == "u"


def test_mask_leaves_the_original_alone_and_empty_secrets_empty():
    original = stored()
    original["data_receiver"][0]["connections"][0]["password"] = ""
    before = copy.deepcopy(original)
    masked = mask_secrets(original)
    assert original == before
    assert masked["data_receiver"][0]["connections"][0]["password"] == ""


def test_masked_round_trip_restores_every_secret():
    restored, violations = restore_secrets(mask_secrets(stored()), stored())
    assert violations == []
    assert restored == stored()


def test_secret_follows_its_receiver_not_its_position():
    candidate = mask_secrets(stored())
    candidate["data_receiver"].reverse()
    restored, violations = restore_secrets(candidate, stored())
    assert violations == []
    assert restored["data_receiver"][1]["connections"][1]["password"] == "second-pw"
    assert restored["data_receiver"][0]["connections"][0]["password"] == "db-pw"


def test_new_value_replaces_the_stored_secret():
    candidate = mask_secrets(stored())
    candidate["data_transmit"][0]["API_key"] = "key-2"
    restored, violations = restore_secrets(candidate, stored())
    assert violations == [] and restored["data_transmit"][0]["API_key"] == "key-2"


SHARE_PASSWORDS = [("data_receiver", 0, "connections", 0, "password"), ("data_receiver", 0, "connections", 1, "password")]


@pytest.mark.parametrize("change, expected", [
    (lambda c: c["data_receiver"][0].update(data_receiver_name="share2"), SHARE_PASSWORDS),
    (lambda c: c["data_receiver"][0].update(protocol="sql"), SHARE_PASSWORDS),
    (lambda c: c["data_receiver"][0]["connections"][0].update(host="evil.example"), SHARE_PASSWORDS[:1]),
    (lambda c: c["data_transmit"][0].update(base_url="https://evil.example"), [("data_transmit", 0, "API_key")]),
])
def test_mask_for_a_changed_component_is_a_violation(change, expected):
    candidate = mask_secrets(stored())
    change(candidate)
    restored, violations = restore_secrets(candidate, stored())
    assert [v.json_path for v in violations] == expected
    assert {v.level for v in violations} == {"error"}
    assert "no stored secret matches" in violations[0].description
    for path in expected:  # the mask stays: no stored secret leaks into the changed component
        node = restored
        for part in path:
            node = node[part]
        assert node == MASK


def test_reordered_connections_do_not_swap_passwords():
    candidate = mask_secrets(stored())
    candidate["data_receiver"][0]["connections"].reverse()
    _, violations = restore_secrets(candidate, stored())
    assert [v.json_path for v in violations] == [("data_receiver", 0, "connections", 0, "password"),
                                                 ("data_receiver", 0, "connections", 1, "password")]


def test_mask_with_nothing_stored_is_a_violation():
    _, violations = restore_secrets(mask_secrets(stored()), None)
    assert len(violations) == 4


def test_restore_copes_with_any_json():
    for candidate in (None, 3, "x", [MASK], {"password": [MASK]}, {"data_receiver": "x"}):
        restored, violations = restore_secrets(candidate, stored())
        assert restored == candidate
