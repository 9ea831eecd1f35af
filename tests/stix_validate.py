#!/usr/bin/env python3
"""Validate STIX objects against OASIS's STIX 2.1 JSON schemas.

Usage: stix_validate.py SCHEMAS FILE...
Each FILE holds a JSON array of STIX objects, a bundle, or a TAXII
envelope; every object is checked against the schema of its type (and
must have one).  Prints one line per file; exits 1 if any object is
refused, 77 (skipped) when the schemas are not there.
"""
import json
import os
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import jsonschema  # noqa: E402

FOLDERS = ("sdos", "sros", "observables", "common")


def load_store(root):
    """Every schema under root by its $id, for the relative $refs."""
    store, by_type = {}, {}
    for folder in FOLDERS:
        for name in os.listdir(os.path.join(root, folder)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(root, folder, name)) as f:
                schema = json.load(f)
            store[schema["$id"]] = schema
            by_type[name[:-5]] = schema
    return store, by_type


def objects_of(doc):
    if isinstance(doc, list):
        return doc
    if doc.get("type") == "bundle" or "objects" in doc:
        return doc.get("objects", [])
    return [doc]


def main():
    root = sys.argv[1]
    if not os.path.isdir(root):
        print("stix_validate: no schemas at %s: skipped" % root)
        return 77
    store, by_type = load_store(root)
    failed = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        objs = objects_of(doc)
        bad = 0
        for obj in objs:
            schema = by_type.get(obj.get("type"))
            if schema is None:
                print("%s: %s: no OASIS schema for type %r"
                      % (path, obj.get("id"), obj.get("type")))
                bad += 1
                continue
            resolver = jsonschema.RefResolver(schema["$id"], schema,
                                              store=store)
            cls = jsonschema.validators.validator_for(schema)
            v = cls(schema, resolver=resolver,
                    format_checker=jsonschema.FormatChecker())
            for err in v.iter_errors(obj):
                print("%s: %s: %s at %s" % (path, obj.get("id"),
                      err.message, "/".join(str(p) for p in err.path)))
                bad += 1
        print("%s: %d objects, %s" % (os.path.basename(path), len(objs),
              "valid" if bad == 0 else "%d errors" % bad))
        failed += bad
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
