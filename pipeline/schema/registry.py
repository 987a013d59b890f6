"""The field registry: fields.toml read into typed Field objects and checked when the module is imported.

Every other description of a case-table field (the schema's constants, the extractors' bounds and units, the
reports' labels and groups, the gold import, SCHEMA.md) is derived from what this module loads.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

FIELDS_FILE = Path(__file__).resolve().parent / "fields.toml"
KINDS = ("number", "integer", "category", "list")
NUMERIC_KINDS = ("number", "integer")
MOMENTS = ("pre", "post")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ValueError):
    """fields.toml says something the registry cannot hold; the message lists every problem found."""


@dataclass(frozen=True)
class Identity:
    name: str
    description: str


@dataclass(frozen=True)
class Group:
    id: str
    label: str


@dataclass(frozen=True)
class Moment:
    id: str  # pre | post
    label: str
    description: str


@dataclass(frozen=True)
class Marker:
    id: str  # its MARKER id in the lexicon, and the stem of its two fields
    label: str
    unit: str
    group: str

    def field(self, moment: str) -> str:
        return f"{self.id}_{moment}"

    @property
    def pre(self) -> str:
        return self.field("pre")

    @property
    def post(self) -> str:
        return self.field("post")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # number | integer | category | list
    vocabulary: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    group: str = ""
    label: str = ""
    description: str = ""
    unit: str | None = None
    group_statement: bool = False  # a statement about all the article's patients may fill it
    per_article: bool = False  # one value serves every patient of the article
    tally: bool = False  # an integer scale that reports count value by value
    lexicon: tuple[str, ...] = ()  # lexicon labels whose entry ids are this field's values
    marker: str | None = None  # the marker of an <id>_pre / <id>_post field
    moment: str | None = None  # pre | post, for a marker's field

    def admits(self, value: float) -> bool:
        """Within the field's plausibility bounds (inclusive)."""
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)


@dataclass(frozen=True)
class Registry:
    identity: tuple[Identity, ...]
    groups: tuple[Group, ...]
    fields: tuple[Field, ...]  # in the case table's column order
    markers: tuple[Marker, ...]
    moments: tuple[Moment, ...]


# what each kind of entry may say: key -> (type, required)
_TEXT, _FLAG, _NUMBER, _TEXTS = str, bool, (int, float), list
_ENTRY_KEYS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "identity": {"name": (_TEXT, True), "description": (_TEXT, True)},
    "group": {"id": (_TEXT, True), "label": (_TEXT, True)},
    "field": {"name": (_TEXT, True), "kind": (_TEXT, True), "group": (_TEXT, True), "label": (_TEXT, True),
              "description": (_TEXT, True), "vocabulary": (_TEXTS, False), "unit": (_TEXT, False),
              "minimum": (_NUMBER, False), "maximum": (_NUMBER, False), "group_statement": (_FLAG, False),
              "per_article": (_FLAG, False), "tally": (_FLAG, False), "lexicon": (_TEXTS, False)},
    "marker": {"id": (_TEXT, True), "label": (_TEXT, True), "unit": (_TEXT, True), "group": (_TEXT, True)},
    "moment": {"label": (_TEXT, True), "description": (_TEXT, True)},
}


def _check_entry(kind: str, where: str, entry: object, problems: list[str]) -> bool:
    """Keys and value types of one entry; False when it is too broken to read further."""
    if not isinstance(entry, dict):
        problems.append(f"{where}: a [[{kind}]] entry must be a table")
        return False
    allowed = _ENTRY_KEYS[kind]
    for key in entry:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r} (a {kind} may have {', '.join(allowed)})")
    fine = True
    for key, (expected, required) in allowed.items():
        if key not in entry:
            if required:
                problems.append(f"{where}: {key!r} is missing")
                fine = False
            continue
        value = entry[key]
        # TOML's true is an int to isinstance: a flag where a number belongs is refused explicitly
        if not isinstance(value, expected) or (expected is _NUMBER and isinstance(value, bool)):
            problems.append(f"{where}: {key!r} must be {_type_name(expected)}, got {value!r}")
            fine = False
        elif expected is _TEXTS and not all(isinstance(item, str) and item for item in value):
            problems.append(f"{where}: {key!r} must be a list of non-empty texts, got {value!r}")
            fine = False
        elif expected is _TEXT and not value.strip():
            problems.append(f"{where}: {key!r} must not be blank")
            fine = False
    return fine


def _type_name(expected) -> str:
    return {_TEXT: "a text", _FLAG: "true or false", _NUMBER: "a number", _TEXTS: "a list of texts"}[expected]


def _field(entry: dict, where: str, groups: set[str], problems: list[str]) -> Field:
    kind, vocabulary = entry["kind"], tuple(entry.get("vocabulary", ()))
    minimum, maximum = entry.get("minimum"), entry.get("maximum")
    if not NAME.match(entry["name"]):
        problems.append(f"{where}: a name is lower case letters, digits and '_', starting with a letter")
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if entry["group"] not in groups:
        problems.append(f"{where}: group {entry['group']!r} is not declared (groups: {', '.join(sorted(groups))})")
    if kind == "category" and not vocabulary:
        problems.append(f"{where}: a category needs a vocabulary")
    if kind in NUMERIC_KINDS and vocabulary:
        problems.append(f"{where}: a {kind} has no vocabulary")
    if kind == "list" and any(item != item.lower() or ";" in item for item in vocabulary):
        problems.append(f"{where}: a list's items are lower case without ';' (cells are written so)")
    if len(set(vocabulary)) != len(vocabulary):
        problems.append(f"{where}: the vocabulary repeats a value")
    if kind not in NUMERIC_KINDS and (minimum is not None or maximum is not None or "unit" in entry):
        problems.append(f"{where}: only a number or an integer has a unit or bounds")
    if minimum is not None and maximum is not None and minimum > maximum:
        problems.append(f"{where}: minimum {minimum} is above maximum {maximum}")
    if kind == "integer" and any(b is not None and not float(b).is_integer() for b in (minimum, maximum)):
        problems.append(f"{where}: an integer's bounds are whole numbers")
    if entry.get("tally") and kind != "integer":
        problems.append(f"{where}: only an integer is tallied (categories and lists always are)")
    return Field(entry["name"], kind, vocabulary, minimum, maximum, group=entry["group"], label=entry["label"],
                 description=entry["description"], unit=entry.get("unit"),
                 group_statement=entry.get("group_statement", False), per_article=entry.get("per_article", False),
                 tally=entry.get("tally", False), lexicon=tuple(entry.get("lexicon", ())))


def _marker_field(marker: Marker, moment: Moment) -> Field:
    return Field(marker.field(moment.id), "number", minimum=0, group=marker.group,
                 label=f"{marker.label} {moment.label}", unit=marker.unit,
                 description=f"{marker.label} in {marker.unit}: {moment.description}.",
                 lexicon=("MARKER",), marker=marker.id, moment=moment.id)


def parse_registry(data: dict, source: str = "fields.toml") -> Registry:
    """The registry that ``data`` (fields.toml as tomllib reads it) declares; RegistryError lists every problem."""
    problems: list[str] = []
    for key in data:
        if key not in _ENTRY_KEYS:
            problems.append(f"{source}: unknown section {key!r} (sections: {', '.join(_ENTRY_KEYS)})")

    def entries(kind: str, key: str) -> list[tuple[str, dict]]:
        found = data.get(kind, [])
        if not isinstance(found, list):
            problems.append(f"{source}: {kind} must be written [[{kind}]]")
            return []
        checked = []
        for number, entry in enumerate(found, 1):
            name = entry.get(key) if isinstance(entry, dict) else None
            where = f"{source}: {kind} {name!r}" if name else f"{source}: {kind} #{number}"
            if _check_entry(kind, where, entry, problems):
                checked.append((where, entry))
        return checked

    identity = tuple(Identity(e["name"], e["description"]) for _, e in entries("identity", "name"))
    groups = tuple(Group(e["id"], e["label"]) for _, e in entries("group", "id"))
    group_ids = {g.id for g in groups}
    fields = [_field(entry, where, group_ids, problems) for where, entry in entries("field", "name")]
    markers = []
    for where, entry in entries("marker", "id"):
        if not NAME.match(entry["id"]):
            problems.append(f"{where}: an id is lower case letters, digits and '_', starting with a letter")
        if entry["group"] not in group_ids:
            problems.append(f"{where}: group {entry['group']!r} is not declared")
        markers.append(Marker(entry["id"], entry["label"], entry["unit"], entry["group"]))
    moments_data = data.get("moment", {})
    if not isinstance(moments_data, dict) or set(moments_data) != set(MOMENTS):
        problems.append(f"{source}: [moment.pre] and [moment.post], and no other moment, must be declared")
        moments_data = {}
    moments = tuple(Moment(m, moments_data[m]["label"], moments_data[m]["description"]) for m in MOMENTS
                    if m in moments_data and _check_entry("moment", f"{source}: moment {m!r}", moments_data[m], problems))

    by_group = {g.id: [f for f in fields if f.group == g.id] + [_marker_field(m, moment) for m in markers
                                                                 if m.group == g.id for moment in moments]
                for g in groups}
    ordered = tuple(f for g in groups for f in by_group[g.id])
    for group in groups:
        if not by_group[group.id]:
            problems.append(f"{source}: group {group.id!r} has no field")
    names = [i.name for i in identity] + [f.name for f in ordered]
    for kind, values in (("column", names), ("group", [g.id for g in groups]), ("marker", [m.id for m in markers])):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            problems.append(f"{source}: {kind} declared more than once: {', '.join(repeated)}")
    if problems:
        raise RegistryError("the field registry is not valid:\n" + "\n".join(f"- {p}" for p in problems))
    return Registry(identity, groups, ordered, tuple(markers), moments)


def load_registry(path: Path = FIELDS_FILE) -> Registry:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{Path(path).name}: not valid TOML ({exc})") from None
    return parse_registry(data, Path(path).name)


REGISTRY = load_registry()

# the registry as the rest of pecrs reads it
FIELDS = list(REGISTRY.fields)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
SCORED_FIELDS = [f.name for f in FIELDS]
IDENTITY_COLUMNS = [i.name for i in REGISTRY.identity]
COLUMNS = IDENTITY_COLUMNS + SCORED_FIELDS
GROUPS = REGISTRY.groups
MARKERS = REGISTRY.markers
MARKER_BY_ID = {m.id: m for m in MARKERS}
MARKER_UNITS = {m.id: m.unit for m in MARKERS}  # the unit each marker's values are stored in
GROUP_STATEMENT_FIELDS = frozenset(f.name for f in FIELDS if f.group_statement)
PER_ARTICLE_FIELDS = frozenset(f.name for f in FIELDS if f.per_article)
