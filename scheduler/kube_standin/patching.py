"""PATCH bodies as the API server reads them: JSON merge patch (RFC 7386), strategic merge
patch (for the metadata maps a test patches this is the same merge), and JSON patch (RFC 6902).
Server-side apply is refused with the real 415 answer rather than treated as something else."""

from __future__ import annotations

import copy
from typing import Any

from scheduler.kube_standin.statuses import ApiError, bad_request

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def apply_patch(current: dict[str, Any], content_type: str, patch: Any) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if kind in (MERGE, STRATEGIC):
        if not isinstance(patch, dict):
            raise bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            )
        return _merge(copy.deepcopy(current), patch)
    if kind == JSON_PATCH:
        if not isinstance(patch, list):
            raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return _json_patch(copy.deepcopy(current), patch)
    raise ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON_PATCH}, {MERGE}, {STRATEGIC} (the test stand-in has no server-side apply; "
        f"got {kind or 'none'})",
    )


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge(target.get(key), value)
    return target


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _json_patch(doc: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid JSON patch operation: {op!r}")
        *parents, last = _pointer(op["path"])
        node: Any = doc
        for part in parents:
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError):
                raise ApiError(
                    422,
                    "Invalid",
                    f"jsonpatch {op['op']} operation does not apply: doc is missing path: {op['path']}",
                ) from None
        kind = op["op"]
        if kind in ("add", "replace"):
            if isinstance(node, list):
                index = len(node) if last == "-" else int(last)
                if kind == "add":
                    node.insert(index, op.get("value"))
                else:
                    node[index] = op.get("value")
            else:
                if kind == "replace" and last not in node:
                    raise ApiError(
                        422,
                        "Invalid",
                        f"jsonpatch replace operation does not apply: doc is missing key: {op['path']}",
                    )
                node[last] = op.get("value")
        elif kind == "remove":
            try:
                del node[int(last) if isinstance(node, list) else last]
            except (KeyError, IndexError, ValueError):
                raise ApiError(
                    422,
                    "Invalid",
                    f"jsonpatch remove operation does not apply: doc is missing path: {op['path']}",
                ) from None
        elif kind == "test":
            actual = node[int(last)] if isinstance(node, list) else node.get(last)
            if actual != op.get("value"):
                raise ApiError(422, "Invalid", f"testing value {op['path']} failed: test failed")
        else:
            raise bad_request(f"unsupported JSON patch operation {kind!r}")
    return doc
