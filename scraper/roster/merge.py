"""Merge people from Wikidata into a roster file. Hand edits win.

The roster file is YAML that people edit, so it is read and written with
ruamel.yaml's round trip: comments, order and quoting survive a re-run.

**Provenance.** Each entry the tool wrote carries, under ``wikidata:``, its
QID and a fingerprint (a short SHA-256) of every value as it came from
Wikidata (``fetched``): ``name``, ``country``, each ``accounts.<platform>``,
and each item of ``aliases`` and ``roles``. On the next run:

- a value whose fingerprint still matches was not touched by a person: it
  takes Wikidata's new value (or goes, when Wikidata no longer has it);
- a value that no longer matches was edited by hand: it is kept. When
  Wikidata's value changed too, that is a **conflict**, listed with both
  values; nothing is resolved silently. ``--take-wikidata ID[.FIELD]``
  takes Wikidata's value where the person agrees;
- a role or alias added by hand stays; one deleted by hand stays deleted
  (while Wikidata still has it unchanged); a new Wikidata role that overlaps
  a hand role of the same kind and country is a conflict, not a duplicate;
- an entry without ``fetched`` (written by hand, even with ``wikidata: Q…``)
  is never changed; where Wikidata differs, the differences are listed;
- a person from Wikidata who looks like a hand entry without a QID (same
  name or alias, same country) is not added; the match is listed;
- an entry Wikidata no longer returns is kept, with a note; ids never change
  (configs name them).

``id`` and ``notes`` belong to people: the tool writes an id once and never
a note.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .transform import WikidataPerson, slug

LIST_FIELDS = ("aliases", "roles")
ROLE_KEYS = ("title", "kind", "start", "end", "country", "organisation")
HEADER = """\
Roster built from Wikidata (CC0) by `reactions roster wikidata`; run it
again to update. Edit freely: a re-run keeps every value you change, add or
delete, and lists where Wikidata changed too. Each entry's `wikidata:` block
(its QID and the fingerprints of the values fetched) is the tool's
bookkeeping: leave it as it is. Reference: docs/configuration.md,
"Building the roster from Wikidata".
"""


@dataclass
class Conflict:
    leader_id: str
    qid: str
    field: str
    line: int | None
    hand: Any
    wikidata: Any
    reason: str

    def describe(self, path: Path) -> str:
        where = f"{path}:{self.line}" if self.line else str(path)
        return (f"{where}: {self.leader_id} ({self.qid}) {self.field}: {self.reason}; "
                f"kept {_show(self.hand)}; Wikidata says {_show(self.wikidata)}")


@dataclass
class MergeResult:
    old_text: str
    text: str
    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # leader id -> fields changed
    qids: dict[str, str] = field(default_factory=dict)  # leader id -> QID, for those added or updated
    unchanged: int = 0
    hand_edits_kept: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.old_text

    def diff(self, path: Path) -> str:
        return "".join(difflib.unified_diff(
            self.old_text.splitlines(keepends=True), self.text.splitlines(keepends=True),
            fromfile=f"{path} (now)", tofile=f"{path} (after the update)",
        ))


# --- values and fingerprints ------------------------------------------------------------


def canonical(value: Any) -> Any:
    """A value as plain JSON data, whatever YAML types carry it."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return None
    return str(value)


def fingerprint(value: Any) -> str:
    text = json.dumps(canonical(value), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def person_values(person: WikidataPerson) -> dict[str, Any]:
    """The person in the roster's shape, field by field."""
    values: dict[str, Any] = {"name": person.name, "country": person.country}
    if person.aliases:
        values["aliases"] = list(person.aliases)
    values["roles"] = [
        {key: value for key, value in (("title", role.title), ("kind", role.kind), ("start", role.start),
                                        ("end", role.end), ("country", role.country)) if value is not None}
        for role in person.roles
    ]
    for account in person.accounts:
        values[f"accounts.{account.platform}"] = {
            key: value for key, value in (("handle", account.handle), ("id", account.platform_id),
                                          ("url", account.url)) if value
        }
    return values


def _get(entry, name: str):
    if name.startswith("accounts."):
        accounts = entry.get("accounts")
        return accounts.get(name.split(".", 1)[1]) if isinstance(accounts, dict) else None
    return entry.get(name)


def _set(entry, name: str, value) -> None:
    from ruamel.yaml.comments import CommentedMap

    if name.startswith("accounts."):
        platform = name.split(".", 1)[1]
        accounts = entry.get("accounts")
        if not isinstance(accounts, dict):
            accounts = CommentedMap()
            _insert_before(entry, "accounts", accounts, ("wikidata", "notes"))
        accounts[platform] = value
        return
    if name in entry:
        entry[name] = value
    else:
        _insert_before(entry, name, value, _later_keys(name))


def _delete(entry, name: str) -> None:
    if name.startswith("accounts."):
        accounts = entry.get("accounts")
        if isinstance(accounts, dict):
            accounts.pop(name.split(".", 1)[1], None)
            if not accounts:
                entry.pop("accounts")
        return
    entry.pop(name, None)


ENTRY_ORDER = ("id", "name", "aliases", "country", "roles", "accounts", "notes", "wikidata")


def _later_keys(name: str) -> tuple[str, ...]:
    return ENTRY_ORDER[ENTRY_ORDER.index(name) + 1:] if name in ENTRY_ORDER else ()


def _insert_before(entry, name: str, value, later: tuple[str, ...]) -> None:
    keys = list(entry.keys())
    position = next((keys.index(key) for key in later if key in keys), len(keys))
    entry.insert(position, name, value)


# --- YAML output ------------------------------------------------------------------------------


def _plain_safe(text: str):
    """A string ruamel.yaml would write plain but PyYAML (YAML 1.1, which
    our config loader reads) would take for something else (yes, no, on,
    off, 1:20, 0x1F ...) is written in double quotes."""
    import yaml
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    return text if tag == "tag:yaml.org,2002:str" else DoubleQuotedScalarString(text)


class _LazyResolver:
    def __init__(self):
        self._resolver = None

    def resolve(self, *args):
        if self._resolver is None:
            import yaml

            self._resolver = yaml.resolver.Resolver()
        return self._resolver.resolve(*args)


_RESOLVER = _LazyResolver()


def _yaml_value(name: str, value: Any):
    """A value as ruamel.yaml should write it: roles and accounts as one-line
    mappings, as people write them."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def scalar(item):
        return _plain_safe(item) if isinstance(item, str) else item

    def flow_map(mapping: dict) -> CommentedMap:
        result = CommentedMap((key, scalar(item)) for key, item in mapping.items())
        result.fa.set_flow_style()
        return result

    if name == "roles":
        return CommentedSeq(flow_map(role) for role in value)
    if name == "aliases":
        sequence = CommentedSeq(scalar(alias) for alias in value)
        sequence.fa.set_flow_style()
        return sequence
    if name.startswith("accounts."):
        return flow_map(value)
    return scalar(value)


def _list_item(name: str, value: Any):
    if name == "roles":
        return _yaml_value("roles", [value])[0]
    return _yaml_value("aliases", [value])[0]


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def load_document(text: str):
    from ruamel.yaml.comments import CommentedMap

    document = _yaml().load(text) if text.strip() else None
    return document if document is not None else CommentedMap()


def dump_document(document) -> str:
    stream = io.StringIO()
    _yaml().dump(document, stream)
    return stream.getvalue()


# --- the merge --------------------------------------------------------------------------------


def merge_roster(old_text: str, people: list[WikidataPerson], *, settings: dict[str, Any], queried: date,
                 take_wikidata: set[str] = frozenset()) -> MergeResult:
    """The roster file's new text: ``old_text`` (empty for a new file) with
    ``people`` merged in, and what changed, what conflicts, what was noted."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    document = load_document(old_text)
    result = MergeResult(old_text=old_text, text=old_text)
    if not old_text.strip():
        document.yaml_set_start_comment(HEADER)
    _write_settings(document, settings, queried)
    roster = document.get("roster")
    if not isinstance(roster, list):
        roster = CommentedSeq()
        document["roster"] = roster
    by_qid = {}
    ids = set()
    for index, entry in enumerate(roster):
        if not isinstance(entry, dict):
            continue
        ids.add(str(entry.get("id")))
        qid = _entry_qid(entry)
        if qid and qid not in by_qid:
            by_qid[qid] = (index, entry)
    stamp = f"Wikidata {{qid}}, queried {queried.isoformat()}"
    returned = set()
    for person in people:
        returned.add(person.qid)
        values = person_values(person)
        if person.qid in by_qid:
            index, entry = by_qid[person.qid]
            changed = _merge_entry(entry, person.qid, values, _taken(take_wikidata, str(entry.get("id"))),
                                   _line(roster, index), result)
            if changed:
                result.updated[str(entry["id"])] = changed
                result.qids[str(entry["id"])] = person.qid
                entry.yaml_add_eol_comment(stamp.format(qid=person.qid), "id")
            else:
                result.unchanged += 1
            continue
        lookalike = _lookalike(roster, person)
        if lookalike is not None:
            index, entry = lookalike
            result.conflicts.append(Conflict(
                str(entry.get("id")), person.qid, "entry", _line(roster, index), entry.get("name"), person.name,
                f"Wikidata's {person.qid} looks like this hand entry (same name, same country), so it was not added; "
                f"add 'wikidata: {person.qid}' to the entry to link them",
            ))
            continue
        entry = CommentedMap()
        entry["id"] = _new_id(person, ids)
        ids.add(entry["id"])
        for name in ENTRY_ORDER[1:6]:
            for key in [k for k in values if k == name or k.startswith(f"{name}.")]:
                _set(entry, key, _yaml_value(key, values[key]))
        entry["wikidata"] = _bookkeeping(person.qid, {key: _fingerprints(key, values[key]) for key in values})
        entry.yaml_add_eol_comment(stamp.format(qid=person.qid), "id")
        roster.append(entry)
        result.added.append(entry["id"])
        result.qids[entry["id"]] = person.qid
    for qid, (index, entry) in by_qid.items():
        if qid not in returned and _is_tool_entry(entry):
            result.notes.append(f"{entry.get('id')} ({qid}): not returned by Wikidata this time (no office held "
                                "since the date, or the query changed); kept as it is")
    result.text = dump_document(document)
    return result


def _write_settings(document, settings: dict[str, Any], queried: date) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    block = document.get("wikidata")
    if not isinstance(block, dict):
        block = CommentedMap()
        document.insert(0, "wikidata", block)
    wanted = {**settings, "queried": queried}
    for key in list(block):
        if key not in wanted:
            del block[key]
    for key, value in wanted.items():
        if isinstance(value, (list, tuple)):
            sequence = CommentedSeq(_plain_safe(v) if isinstance(v, str) else v for v in value)
            sequence.fa.set_flow_style()
            if canonical(block.get(key)) != canonical(list(value)):
                block[key] = sequence
        elif canonical(block.get(key)) != canonical(value):
            block[key] = _plain_safe(value) if isinstance(value, str) else value


def _entry_qid(entry) -> str | None:
    block = entry.get("wikidata")
    if isinstance(block, dict):
        block = block.get("qid")
    return str(block) if block else None


def _is_tool_entry(entry) -> bool:
    block = entry.get("wikidata")
    return isinstance(block, dict) and isinstance(block.get("fetched"), dict)


def _line(roster, index: int) -> int | None:
    try:
        return roster.lc.item(index)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def _key_line(entry, name: str, fallback: int | None) -> int | None:
    key = name.split(".", 1)[0]
    try:
        line = entry.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return fallback
    if name.startswith("accounts.") and isinstance(entry.get("accounts"), dict):
        try:
            return entry["accounts"].lc.key(name.split(".", 1)[1])[0] + 1
        except (AttributeError, KeyError, TypeError):
            return line
    return line


def _taken(take_wikidata: set[str], leader_id: str) -> set[str] | bool:
    """The fields of this leader where Wikidata's value is to be taken
    (True: every field)."""
    if leader_id in take_wikidata:
        return True
    return {item.split(".", 1)[1] for item in take_wikidata if item.startswith(f"{leader_id}.")}


def _fingerprints(name: str, value: Any):
    if name in LIST_FIELDS:
        return sorted({fingerprint(item) for item in value})
    return fingerprint(value)


def _bookkeeping(qid: str, fetched: dict[str, Any]):
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    prints = CommentedMap()
    for key in sorted(fetched):
        value = fetched[key]
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        prints[key] = value
    prints.fa.set_flow_style()
    block = CommentedMap()
    block["qid"] = qid
    block["fetched"] = prints
    return block


def _merge_entry(entry, qid: str, values: dict[str, Any], taken, line: int | None,
                 result: MergeResult) -> list[str]:
    """Update one entry that names ``qid``; return the fields changed."""
    from ruamel.yaml.comments import CommentedMap

    if not _is_tool_entry(entry):
        if taken is True:
            entry["wikidata"] = _bookkeeping(qid, {})
        else:
            if taken:
                result.notes.append(f"--take-wikidata {entry.get('id')}.{sorted(taken)[0]}: {entry.get('id')} is an "
                                    f"entry written by hand; take it whole with --take-wikidata {entry.get('id')}")
            _compare_hand_entry(entry, qid, values, line, result)
            return []
    block = entry["wikidata"]
    if str(block.get("qid")) != qid:
        block["qid"] = qid
    fetched = block["fetched"]
    if not isinstance(fetched, CommentedMap):
        fetched = CommentedMap(fetched)
        block["fetched"] = fetched
    before = canonical(fetched)
    changed: list[str] = []
    names = sorted(set(values) | {str(key) for key in fetched}, key=_field_order)
    for name in names:
        take = taken is True or name in taken or name.split(".", 1)[0] in taken
        merge = _merge_list if name in LIST_FIELDS else _merge_value
        if merge(entry, fetched, name, values.get(name), take, qid, _key_line(entry, name, line), result):
            changed.append(name)
    if list(fetched) != sorted(fetched) or canonical(fetched) != before:
        ordered = CommentedMap((key, fetched[key]) for key in sorted(fetched))
        ordered.fa.set_flow_style()
        block["fetched"] = ordered
    return changed


def _field_order(name: str) -> tuple[int, str]:
    head = name.split(".", 1)[0]
    return (ENTRY_ORDER.index(head) if head in ENTRY_ORDER else len(ENTRY_ORDER), name)


def _merge_value(entry, fetched, name, new, take, qid, line, result) -> bool:
    current = _get(entry, name)
    stored = fetched.get(name)
    untouched = current is not None and stored is not None and fingerprint(current) == stored
    if current is None and new is None:
        fetched.pop(name, None)
        return False
    if take or untouched or (current is None and stored is None):
        if new is None:
            _delete(entry, name)
            fetched.pop(name, None)
            return True
        fetched[name] = fingerprint(new)
        if current is not None and canonical(current) == canonical(new):
            return False
        _set(entry, name, _yaml_value(name, new))
        return True
    if current is not None and new is not None and canonical(current) == canonical(new):
        fetched[name] = fingerprint(new)  # the hand value and Wikidata agree now
        return False
    if stored is None and new is None:
        return False  # a value added by hand that Wikidata lacks
    if stored is not None and (fingerprint(new) if new is not None else None) == stored:
        result.hand_edits_kept += 1  # edited by hand; Wikidata still says what it said
        return False
    what = "deleted by hand" if current is None else "edited by hand" if stored is not None else "set by hand"
    result.conflicts.append(Conflict(str(entry.get("id")), qid, name, line, current, new,
                                     f"{what}, and Wikidata's value {'changed' if stored else 'differs'}"))
    return False


def _merge_list(entry, fetched, name, new, take, qid, line, result) -> bool:
    current = list(entry.get(name) or [])
    new = list(new or [])
    stored = set(fetched.get(name) or [])
    new_prints = {fingerprint(item): item for item in new}
    if take:
        if canonical(current) == canonical(new):
            changed = False
        else:
            _store_list(entry, name, [_list_item(name, item) for item in new])
            changed = True
        _store_prints(fetched, name, set(new_prints))
        return changed
    current_prints = [fingerprint(item) for item in current]
    kept = []
    changed = False
    for item, mark in zip(current, current_prints):
        if mark in stored and mark not in new_prints:
            changed = True  # Wikidata no longer has it, and no one touched it
            continue
        kept.append(item)
    hand_items = [item for item, mark in zip(current, current_prints) if mark not in stored and mark not in new_prints]
    prints = set()
    added = False
    for mark, item in new_prints.items():
        if mark in current_prints:
            prints.add(mark)
        elif mark in stored:
            prints.add(mark)  # deleted by hand: stays deleted
            result.hand_edits_kept += 1
        else:
            clash = _clashing_role(item, hand_items) if name == "roles" else None
            if clash is not None:
                result.conflicts.append(Conflict(str(entry.get("id")), qid, name, line, clash, item,
                                                 "a role added or edited by hand overlaps a new role on Wikidata"))
                continue
            kept.append(_list_item(name, item))
            prints.add(mark)
            added = changed = True
    if changed:
        if name == "roles" and added:
            kept.sort(key=lambda role: (str(canonical(role.get("start"))), str(role.get("kind"))))
        _store_list(entry, name, kept)
    _store_prints(fetched, name, prints)
    return changed


def _store_list(entry, name: str, items: list) -> None:
    from ruamel.yaml.comments import CommentedSeq

    if not items:
        entry.pop(name, None)
        return
    sequence = CommentedSeq(items)
    if name == "aliases":
        sequence.fa.set_flow_style()
    _set(entry, name, sequence)


def _store_prints(fetched, name: str, prints: set[str]) -> None:
    from ruamel.yaml.comments import CommentedSeq

    if not prints:
        fetched.pop(name, None)
        return
    if set(fetched.get(name) or []) != prints:
        sequence = CommentedSeq(sorted(prints))
        sequence.fa.set_flow_style()
        fetched[name] = sequence


def _clashing_role(role: dict, hand_roles: list):
    start, end = _span(role)
    for hand in hand_roles:
        if not isinstance(hand, dict):
            continue
        if str(hand.get("kind")) != role.get("kind") or (hand.get("country") or None) != (role.get("country") or None):
            continue
        hand_start, hand_end = _span(hand)
        if hand_start <= end and start <= hand_end:
            return hand
    return None


def _span(role) -> tuple[str, str]:
    start = canonical(role.get("start")) or "0000-00-00"
    end = canonical(role.get("end")) or "9999-12-31"
    return str(start), str(end)


def _compare_hand_entry(entry, qid: str, values: dict[str, Any], line: int | None, result: MergeResult) -> None:
    """An entry a person wrote: never changed; differences listed."""
    for name, new in sorted(values.items(), key=lambda item: _field_order(item[0])):
        if name == "aliases":
            continue
        current = _get(entry, name)
        if name == "roles":
            have = {fingerprint(role) for role in current or []}
            missing = [role for role in new if fingerprint(role) not in have]
            if missing:
                result.conflicts.append(Conflict(str(entry.get("id")), qid, name, _key_line(entry, name, line),
                                                 current, new, "an entry written by hand; its roles differ from Wikidata's"))
            continue
        if canonical(current) != canonical(new):
            result.conflicts.append(Conflict(str(entry.get("id")), qid, name, _key_line(entry, name, line),
                                             current, new, "an entry written by hand"))


def _name_keys(names) -> set[str]:
    keys = set()
    for name in names:
        if not name:
            continue
        folded = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
        keys.add(" ".join(folded.casefold().split()))
    return keys - {""}


def _lookalike(roster, person: WikidataPerson):
    wanted = _name_keys([person.name, *person.aliases])
    for index, entry in enumerate(roster):
        if not isinstance(entry, dict) or _entry_qid(entry):
            continue
        if str(entry.get("country") or "").upper() != person.country:
            continue
        if _name_keys([entry.get("name"), *(entry.get("aliases") or [])]) & wanted:
            return index, entry
    return None


def _new_id(person: WikidataPerson, ids: set[str]) -> str:
    base = slug(person.name) or person.qid.lower()
    if base[:1] in ("-", "_", "."):
        base = person.qid.lower()
    return base if base not in ids else f"{base}-{person.qid.lower()}"


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    return json.dumps(canonical(value), ensure_ascii=False, sort_keys=False)
