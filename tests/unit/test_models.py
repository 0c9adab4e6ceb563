from __future__ import annotations

import pytest
from pydantic import ValidationError

from assets_core.models.asset import ASSET_FIELD_ORDER, Asset, AssetUpdate
from tests.support import make_asset


def test_spec_example_is_a_valid_asset_with_defaults_filled() -> None:
    asset = Asset.model_validate(make_asset())
    document = asset.document()
    assert tuple(document) == ASSET_FIELD_ORDER
    assert document["asset_policy_ids"] == []
    assert document["asset_container_uri"] is None
    assert document["profiles"][0]["asset_tags"] == ["generative"]


@pytest.mark.parametrize(
    "field", ["asset_id", "asset_uri", "asset_version", "asset_profile_id", "asset_file_ids"]
)
def test_required_fields_are_enforced(field: str) -> None:
    data = make_asset()
    del data[field]
    with pytest.raises(ValidationError) as raised:
        Asset.model_validate(data)
    assert raised.value.errors()[0]["loc"] == (field,)


def test_unknown_top_level_and_embedded_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        Asset.model_validate({**make_asset(), "colour": "red"})
    assert raised.value.errors()[0]["type"] == "extra_forbidden"
    profile = {**make_asset()["profiles"][0], "unexpected": 1}
    with pytest.raises(ValidationError):
        Asset.model_validate(make_asset(profiles=[profile]))


def test_types_are_not_coerced_from_numbers() -> None:
    with pytest.raises(ValidationError):
        Asset.model_validate(make_asset(asset_version=3))
    with pytest.raises(ValidationError):
        Asset.model_validate(make_asset(asset_file_ids="a"))


def test_free_form_dicts_stay_free_form() -> None:
    profile = {**make_asset()["profiles"][0], "asset_metadata": {"any": {"nested": [1, "x"]}}}
    asset = Asset.model_validate(make_asset(profiles=[profile]))
    assert asset.profiles[0].asset_metadata == {"any": {"nested": [1, "x"]}}


@pytest.mark.parametrize("bad_id", ["", "../etc", "a/b", "a b", "-leading", "x" * 201, "é"])
def test_asset_id_is_kept_to_a_safe_alphabet(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        Asset.model_validate(make_asset(asset_id=bad_id))


def test_embedded_back_references_must_name_the_asset() -> None:
    data = make_asset()
    data["profiles"][0]["asset_id"] = "someone-else"
    with pytest.raises(ValidationError, match=r"profiles\[0\]\.asset_id"):
        Asset.model_validate(data)


def test_index_mapping_needs_integers() -> None:
    mapping = {
        "json_doc_id": "d",
        "mapping_field_index": "x",
        "table_name": "t",
        "field_name": "f",
        "render_page_no": 1,
        "render_order_no": 2,
    }
    with pytest.raises(ValidationError):
        Asset.model_validate(make_asset(index_mappings=[mapping]))


def test_update_keeps_only_sent_fields() -> None:
    patch = AssetUpdate.model_validate({"asset_brief_description": "Updated"})
    assert patch.changes() == {"asset_brief_description": "Updated"}
    with pytest.raises(ValidationError):
        AssetUpdate.model_validate({"nope": 1})


def test_mongodb_uri_from_each_secret_form() -> None:
    from assets_core.stores.secrets import RDS_CA_BUNDLE, mongodb_uri_from_secret

    assert mongodb_uri_from_secret("mongodb+srv://u:p@x.mongodb.net/db") == (
        "mongodb+srv://u:p@x.mongodb.net/db",
        {},
    )
    assert mongodb_uri_from_secret('{"uri": "mongodb://h/"}') == ("mongodb://h/", {})
    generated = '{"username": "admin", "password": "p@ss:/w", "host": "c.docdb.amazonaws.com", "port": 27017, "engine": "docdb"}'
    uri, options = mongodb_uri_from_secret(generated)
    assert uri.startswith("mongodb://admin:p%40ss%3A%2Fw@c.docdb.amazonaws.com:27017/")
    assert "retryWrites=false" in uri
    assert options == {"tls": True, "tlsCAFile": str(RDS_CA_BUNDLE)}
    assert RDS_CA_BUNDLE.read_text().count("BEGIN CERTIFICATE") > 10


def test_settings_come_from_the_environment_by_upper_case_name() -> None:
    from pydantic import ValidationError

    from assets_core.config import from_environment

    settings = from_environment(
        {
            "MONGODB_DATABASE": "other",
            "query_max_time_ms": "500",
            "POWERTOOLS_SERVICE_NAME": "svc",
            "HEALTH_CHECK_ALLOW_LOOPBACK": "true",
            "UNRELATED": "x",
        }
    )
    assert (settings.mongodb_database, settings.query_max_time_ms) == ("other", 500)
    assert settings.service_name == "svc"
    assert settings.health_check_allow_loopback is True
    assert from_environment({}).bucket_name == "assets-registry"
    with pytest.raises(ValidationError):
        from_environment({"QUERY_MAX_TIME_MS": "1"})
