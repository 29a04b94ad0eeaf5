"""manifest.yml against Slack's published app manifest schema, for the major version it declares.

The schemas are copies in tests/fixtures/manifest-schema/ (see SOURCE.md there). The test suite
(tests/test_manifest.py) and CI share this module; from the repository root,
`python -m tests.manifest_schema [path]` prints every error and exits 1 when there is any."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "manifest.yml"
SCHEMAS = Path(__file__).resolve().parent / "fixtures" / "manifest-schema"
# Slack reads a manifest without _metadata.major_version as version 1.
SCHEMA_OF_VERSION = {1: "manifest.schema.1.0.0.json", 2: "manifest.schema.2.0.0.json"}


def declared_version(manifest: dict[str, Any]) -> Any:
    """The manifest's major version as written (1 when it names none)."""
    return (manifest.get("_metadata") or {}).get("major_version", 1)


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    """Every error of `manifest` against the schema of its declared major version, one line each."""
    version = declared_version(manifest)
    name = SCHEMA_OF_VERSION.get(version) if isinstance(version, int) else None
    if name is None:
        return [f"_metadata/major_version: {version!r} is not a version Slack publishes a schema for "
                f"({', '.join(map(str, SCHEMA_OF_VERSION))})"]
    validator = Draft7Validator(json.loads((SCHEMAS / name).read_text()))
    errors = sorted(validator.iter_errors(manifest), key=lambda e: e.json_path)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else MANIFEST
    manifest = yaml.safe_load(path.read_text()) or {}
    errors = schema_errors(manifest)
    version = declared_version(manifest)
    print(f"{path.name}: {len(errors)} error(s) against Slack's manifest schema, major version {version}")
    for error in errors:
        print(f"  {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
