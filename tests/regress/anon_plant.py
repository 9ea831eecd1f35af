#!/usr/bin/env python3
"""Plant the reporter's identifiers in every string field of a message,
and look for them in what others received (regress anon_every_field).

  anon_plant.py plant BASE.json FIELDS.json CONTENT SKIP... > OUT.json
      BASE.json with every path of FIELDS.json[CONTENT] (from anon-fields,
      the descriptors) set to the planted text, except the paths in SKIP
      (those whose planted value the hub refused on its own).
  anon_plant.py forms
      the planted forms, one per line (for messages).
  anon_plant.py leaks FILE...
      every planted form found in any string of the JSON lines of FILEs,
      one per line as "FILE: FORM in PATH"; nothing when clean.
  anon_plant.py field 'hub error invalid-field: ... (field a.b[0].c)'
      the path of the field a refusal names, in the form anon-fields
      prints it (a.b[].c), or nothing.
"""
import json
import re
import sys
import unicodedata

# The reporter (bank-a in tests/fixtures/route/directory.yaml) and its
# report's contact, as registered, in several scripts and widths.
FORMS = [
    "bank-a", "Bank A", "BANK A", "エー銀行", "Bank A Holdings",
    "bank-a.example", "www.bank-a.example", "csirt@bank-a.example",
    "+81-3-5555-0101", "03-5555-0101", "198.51.100.161",
    "Sato Hanako", "佐藤 花子", "Kato Ichiro", "ichiro.kato@bank-a.example",
    "+81-3-5555-0177",
]
# Full-width and other compatibility variants: what NFKC folds back.
WIDE = ["Ｂａｎｋ Ａ", "ｂａｎｋ－ａ", "ｂａｎｋ－ａ．ｅｘａｍｐｌｅ",
        "Ｓａｔｏ Ｈａｎａｋｏ", "ｃｓｉｒｔ＠ｂａｎｋ－ａ．ｅｘａｍｐｌｅ"]

PLANT = ("bank-a; Bank A Holdings; エー銀行; https://www.bank-a.example/x"
         "; csirt@bank-a.example; +81-3-5555-0101; 198.51.100.161; "
         "Sato Hanako; Kato Ichiro; ichiro.kato@bank-a.example; "
         "+81-3-5555-0177")


def plant_text(wide):
    """The narrow forms, or the full-width ones alone: both together
    would be longer than a title may be."""
    return "; ".join(WIDE) if wide else PLANT


def set_path(obj, parts, value):
    head, rest = parts[0], parts[1:]
    name, rep = (head[:-2], True) if head.endswith("[]") else (head, False)
    if not rest:
        obj[name] = [value] if rep else value
        return
    if rep:
        lst = obj.get(name)
        if not isinstance(lst, list) or not lst:
            lst = [{}]
            obj[name] = lst
        set_path(lst[0], rest, value)
    else:
        sub = obj.get(name)
        if not isinstance(sub, dict):
            sub = {}
            obj[name] = sub
        set_path(sub, rest, value)


def strings(v, path=""):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from strings(x, f"{path}.{k}" if path else k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from strings(x, f"{path}[{i}]")
    elif isinstance(v, str):
        yield path, v


def fold(s):
    return unicodedata.normalize("NFKC", s).casefold()


def main():
    cmd = sys.argv[1]
    if cmd == "plant":
        base = json.load(open(sys.argv[2]))
        fields = json.load(open(sys.argv[3]))[sys.argv[4]]
        wide = sys.argv[5] == "wide"
        skip = set(sys.argv[6:])
        for p in fields:
            if any(p == s or p.startswith(s + ".") or p.startswith(s + "[")
                   for s in skip):
                continue
            set_path(base, p.split("."), plant_text(wide))
        json.dump(base, sys.stdout, ensure_ascii=False)
    elif cmd == "count":
        fields = json.load(open(sys.argv[2]))[sys.argv[3]]
        print(len(fields))
    elif cmd == "leaks":
        wide = sys.argv[2] == "wide"
        forms = FORMS + (WIDE if wide else [])
        for fn in sys.argv[3:]:
            for line in open(fn, encoding="utf-8"):
                if not line.strip():
                    continue
                for path, s in strings(json.loads(line)):
                    for f in forms:
                        if f in s or fold(f) in fold(s):
                            print(f"{fn}: {f!r} in {path}")
    elif cmd == "field":
        # The client names every mistake of a file at once.
        if re.search(r"\d+ mistakes:", sys.argv[2]):
            print(" ".join(sorted({re.sub(r"\[\d+\]", "[]", f) for f in
                  re.findall(r"^\s+([a-z_.\[\]0-9]+): ", sys.argv[2],
                             re.M)})))
            return
        m = re.search(r"\(field ([^)]*)\)\s*$", sys.argv[2])
        if not m:
            m = re.search(r"hub error [a-z-]+: ([a-z_.\[\]0-9]+):",
                          sys.argv[2])
        if not m:
            # The client's own check of the file, before sending.
            m = re.search(r"\.json: ([a-z_.\[\]0-9]+):", sys.argv[2])
        if m:
            print(re.sub(r"\[\d+\]", "[]", m.group(1)))
    else:
        sys.exit("anon_plant.py: unknown command " + cmd)


main()
