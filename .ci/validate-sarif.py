"""Validate SARIF files against the SARIF 2.1.0 JSON Schema.

usage: validate-sarif.py SCHEMA FILE...
Exits 1 listing the first errors of any file that does not validate.
"""
import json
import sys

import jsonschema


def main() -> int:
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    failed = 0
    for path in sys.argv[2:]:
        doc = json.load(open(path, encoding="utf-8"))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        results = sum(len(run.get("results", [])) for run in doc.get("runs", []))
        if errors:
            failed += 1
            print(f"{path}: {len(errors)} schema error(s)")
            for e in errors[:10]:
                print(f"  at {list(e.path)}: {e.message[:300]}")
        else:
            print(f"{path}: valid SARIF 2.1.0 ({results} result(s))")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
