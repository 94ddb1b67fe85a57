"""Assets (data-aware scheduling): what DAG files import as ``airflow.sdk.Asset`` & co."""

from .access_control import AssetAccessControl
from .decorator import asset
from .definitions import (
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
    AssetNameRef,
    AssetRef,
    AssetUniqueKey,
    AssetUriRef,
    AssetWatcher,
    BaseAsset,
    Dataset,
    Metadata,
    Model,
    asset_condition_of,
    decode_condition,
)
from .uri import sanitize_uri

__all__ = [
    "Asset",
    "AssetAccessControl",
    "AssetAlias",
    "AssetAll",
    "AssetAny",
    "AssetNameRef",
    "AssetRef",
    "AssetUniqueKey",
    "AssetUriRef",
    "AssetWatcher",
    "BaseAsset",
    "Dataset",
    "Metadata",
    "Model",
    "asset",
    "asset_condition_of",
    "decode_condition",
    "sanitize_uri",
]
