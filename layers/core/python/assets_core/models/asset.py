"""Spec 000's asset document: ``Asset`` with its embedded profiles, policies, files, APIs and
index mappings. Unknown fields are refused; free-form dicts stay free-form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from assets_core.identity import Visibility

# An asset id is part of URLs and object keys, so it is kept to a safe alphabet.
AssetId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$"),
]
Text = Annotated[str, StringConstraints(max_length=10_000)]


def is_asset_id(value: object) -> bool:
    """Whether a value is a valid ``asset_id`` (the rule the model applies)."""
    try:
        TypeAdapter(AssetId).validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


Name = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
FreeForm = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=False, str_strip_whitespace=False, defer_build=True
    )


class AssetProfile(_Strict):
    asset_profile_id: Name
    asset_type: Name
    asset_sub_type: Name
    asset_id: AssetId
    asset_metadata: FreeForm | None = None
    asset_creator_info: FreeForm | None = None
    asset_tags: list[Name] | None = Field(default_factory=list)
    asset_description: Text | None = None
    asset_complete_docs_url: Text | None = None
    asset_man_page_url: Text | None = None
    asset_sample_input_json: FreeForm | None = None
    asset_sample_output_json: FreeForm | None = None
    asset_sample_input_data_url: Text | None = None
    asset_sample_output_data_url: Text | None = None
    asset_author_metadata: FreeForm | None = None


class AssetPolicy(_Strict):
    asset_policy_id: Name
    asset_id: AssetId
    asset_policy_type: Name
    asset_policy_rule_uri: Text | None = None
    asset_policy_rule_config: FreeForm | None = None
    asset_policy_rule_params: FreeForm | None = None


class AssetFile(_Strict):
    asset_file_id: Name
    asset_file_type: Name
    asset_file_mime_type: Name
    asset_file_url: Text
    asset_file_metadata: FreeForm | None = None


class AssetAPI(_Strict):
    asset_api_id: Name
    asset_id: AssetId
    asset_api_metadata: FreeForm | None = None
    asset_api_svc: Text | None = None
    asset_api_route: Text | None = None
    asset_api_protocol: Text | None = None
    asset_protocol_specific_config: FreeForm | None = None
    asset_api_man_page: Text | None = None
    asset_api_swagger_doc: Text | None = None
    asset_api_usage_samples: list[FreeForm] | None = Field(default_factory=list)


class IndexMapping(_Strict):
    json_doc_id: Name
    mapping_field_index: int
    table_name: Name
    field_name: Name
    render_page_no: int
    render_order_no: int


# The contract's lineage relations; a custom one is "x-<name>".
RELATIONS = (
    "derived_from",
    "trained_on",
    "evaluated_on",
    "fine_tuned_from",
    "input_of",
    "output_of",
    "depends_on",
)
RELATION_PATTERN = "^(" + "|".join(RELATIONS) + r"|x-[a-z0-9][a-z0-9_.-]{0,63})$"
MAX_LINEAGE_EDGES = 100


class LineageEdge(_Strict):
    """An edge from this asset version to another: this one ``relation`` that one (a model
    ``trained_on`` a dataset version)."""

    relation: Annotated[str, StringConstraints(pattern=RELATION_PATTERN, max_length=66)]
    asset_id: AssetId
    asset_version: Name


class _AssetFields(_Strict):
    """The optional fields of an asset, shared by the full document and a partial update."""

    asset_container_uri: Text | None = None
    asset_container_registry_creds_config: FreeForm | None = None
    asset_workflow_id: Text | None = None
    asset_brief_description: Text | None = None
    # private: its owner and admins only; public: every reader. Unset: DEFAULT_VISIBILITY.
    visibility: Visibility | None = None


class Asset(_AssetFields):
    """A complete asset document, as created and as stored."""

    asset_id: AssetId
    asset_uri: Name
    asset_version: Name
    asset_profile_id: Name
    asset_file_ids: list[Name]
    asset_policy_ids: list[Name] = Field(default_factory=list)
    asset_api_ids: list[Name] = Field(default_factory=list)
    profiles: list[AssetProfile] = Field(default_factory=list)
    policies: list[AssetPolicy] = Field(default_factory=list)
    files: list[AssetFile] = Field(default_factory=list)
    apis: list[AssetAPI] = Field(default_factory=list)
    index_mappings: list[IndexMapping] = Field(default_factory=list)
    # Edges to the versions this one came from, recorded at creation (``logic/lineage.py``).
    lineage: list[LineageEdge] = Field(default_factory=list, max_length=MAX_LINEAGE_EDGES)

    @field_validator("files")
    @classmethod
    def _file_ids_are_unique(cls, files: list[AssetFile]) -> list[AssetFile]:
        """Each file has its own asset_file_id: the id is how a file is named and found."""
        seen: set[str] = set()
        repeated: dict[str, None] = {}
        for file in files:
            if file.asset_file_id in seen:
                repeated[file.asset_file_id] = None
            seen.add(file.asset_file_id)
        if repeated:
            names = ", ".join(f"'{file_id}'" for file_id in repeated)
            message = (
                "asset_file_id {names} is used by more than one file"
                if len(repeated) == 1
                else "asset_file_ids {names} are each used by more than one file"
            )
            raise PydanticCustomError(
                "duplicate_asset_file_id",
                message + "; each file needs an id of its own",
                {"names": names},
            )
        return files

    @model_validator(mode="after")
    def _children_belong_to_this_asset(self) -> Asset:
        children: list[tuple[str, Sequence[AssetProfile | AssetPolicy | AssetAPI]]] = [
            ("profiles", self.profiles),
            ("policies", self.policies),
            ("apis", self.apis),
        ]
        for kind, items in children:
            for index, child in enumerate(items):
                if child.asset_id != self.asset_id:
                    raise ValueError(
                        f"{kind}[{index}].asset_id '{child.asset_id}' must equal the asset's "
                        f"asset_id '{self.asset_id}'"
                    )
        return self

    def document(self) -> dict[str, Any]:
        """The asset as it is stored: every field, defaults included, in the spec's order."""
        dumped = self.model_dump(mode="json")
        # ``lineage`` is not stored in the document: its edges go to the lineage collection
        # (which a read shows only as the caller may see them).
        return {name: dumped[name] for name in ASSET_FIELD_ORDER}

    def declared_lineage(self) -> list[dict[str, Any]]:
        """The edges this document declares, for the write that creates the version."""
        return [edge.model_dump(mode="json") for edge in self.lineage]


class AssetUpdate(_AssetFields):
    """A partial update: only the fields sent are changed; ``asset_id`` cannot change."""

    asset_id: AssetId | None = None
    asset_uri: Name | None = None
    asset_version: Name | None = None
    asset_profile_id: Name | None = None
    asset_file_ids: list[Name] | None = None
    asset_policy_ids: list[Name] | None = None
    asset_api_ids: list[Name] | None = None
    profiles: list[AssetProfile] | None = None
    policies: list[AssetPolicy] | None = None
    files: list[AssetFile] | None = None
    apis: list[AssetAPI] | None = None
    index_mappings: list[IndexMapping] | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as JSON values."""
        return self.model_dump(mode="json", exclude_unset=True)


# Spec 000's order of the asset's fields, kept in stored documents and responses.
ASSET_FIELD_ORDER = (
    "asset_id",
    "asset_uri",
    "asset_version",
    "asset_profile_id",
    "asset_file_ids",
    "asset_container_uri",
    "asset_policy_ids",
    "asset_container_registry_creds_config",
    "asset_workflow_id",
    "asset_api_ids",
    "asset_brief_description",
    "profiles",
    "policies",
    "files",
    "apis",
    "index_mappings",
    "visibility",
)
