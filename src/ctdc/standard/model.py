"""The typed objects the standard is loaded into: `Standard`, `Dataset`, `Field`, `CodeList`, `Code`.

Pure data, frozen. `ctdc.standard.schema.load_standard()` builds them from the YAML files; everything else reads
them. Labels are in English (`label`) and, through `labels` / `label_in(lang)`, in French and Spanish.

>>> cl = CodeList("yes_no", "Yes or no", (Code("y", "Yes", labels={"fr": "Oui"}), Code("n", "No")))
>>> cl.codes, "y" in cl, cl.label_of("y"), cl.label_of("y", "fr"), cl.label_of("n", "es")
(('y', 'n'), True, 'Yes', 'Oui', 'No')
>>> ds = Dataset("d", "D", "", "one row", (Field("a", "A", "string", "sensitive"),
...                                        Field("b", "B", "string", "sensitive", since="0.2.0")))
>>> ds.as_of("0.1.0").field_names, ds.as_of("0.2.0").field_names
(('a',), ('a', 'b'))
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ctdc.errors import CodebookError

FieldType = Literal["integer", "number", "string", "code", "codes", "boolean", "date"]
Role = Literal["direct_identifier", "quasi_identifier", "sensitive", "non_identifying"]
FIELD_TYPES: frozenset[str] = frozenset({"integer", "number", "string", "code", "codes", "boolean", "date"})
ROLES: frozenset[str] = frozenset({"direct_identifier", "quasi_identifier", "sensitive", "non_identifying"})
LANGUAGES: tuple[str, ...] = ("en", "fr", "es")

ROLE_LABELS: dict[str, dict[str, str]] = {
    "direct_identifier": {
        "en": "Direct identifier",
        "fr": "Identifiant direct",
        "es": "Identificador directo",
    },
    "quasi_identifier": {"en": "Quasi-identifier", "fr": "Quasi-identifiant", "es": "Cuasi-identificador"},
    "sensitive": {"en": "Sensitive attribute", "fr": "Attribut sensible", "es": "Atributo sensible"},
    "non_identifying": {"en": "Non-identifying", "fr": "Non identifiant", "es": "No identificativo"},
}
ROLE_DESCRIPTIONS: dict[str, str] = {
    "direct_identifier": "Names or reaches a person by itself (name, contact, exact date, precise place, free text). "
    "Exists only at intake: used for checks or a keyed hash, then dropped before anything is stored.",
    "quasi_identifier": "Identifies a person in combination with others (age, gender, citizenship, country, year). "
    "Stored; released only generalized along its hierarchy until every combination is shared by at least k people.",
    "sensitive": "What an attacker must not learn about a person (types of exploitation, means of control). "
    "Stored and released, protected by the quasi-identifiers' generalization and by noise or synthesis.",
    "non_identifying": "Neither identifies nor reveals anything about a person (data source type, surrogate keys "
    "re-drawn per release, published country aggregates). Released as is.",
}

ROLE_DESCRIPTIONS_I18N: dict[str, dict[str, str]] = {
    "fr": {
        "direct_identifier": "Désigne ou permet de joindre une personne à lui seul (nom, contact, date exacte, lieu "
        "précis, texte libre). N'existe qu'à l'intégration : sert aux contrôles ou à une empreinte chiffrée, puis est "
        "supprimé avant tout stockage.",
        "quasi_identifier": "Identifie une personne en combinaison avec d'autres (âge, genre, nationalité, pays, année). "
        "Stocké ; publié seulement après généralisation, jusqu'à ce que chaque combinaison concerne au moins k personnes.",
        "sensitive": "Ce qu'un attaquant ne doit pas apprendre sur une personne (types d'exploitation, moyens de "
        "contrôle). Stocké et publié, protégé par la généralisation des quasi-identifiants et par du bruit ou la synthèse.",
        "non_identifying": "N'identifie ni ne révèle rien sur une personne (type de source, clés techniques retirées à "
        "chaque publication, agrégats nationaux publiés). Publié tel quel.",
    },
    "es": {
        "direct_identifier": "Nombra o permite contactar a una persona por sí solo (nombre, contacto, fecha exacta, "
        "lugar preciso, texto libre). Solo existe al ingresar los datos: sirve para controles o para una huella cifrada "
        "y se elimina antes de almacenar nada.",
        "quasi_identifier": "Identifica a una persona en combinación con otros (edad, género, nacionalidad, país, año). "
        "Se almacena; solo se publica generalizado hasta que cada combinación corresponda al menos a k personas.",
        "sensitive": "Lo que un atacante no debe saber de una persona (tipos de explotación, medios de control). Se "
        "almacena y se publica, protegido por la generalización de los cuasi-identificadores y por ruido o síntesis.",
        "non_identifying": "No identifica ni revela nada sobre una persona (tipo de fuente, claves técnicas renovadas en "
        "cada publicación, agregados nacionales publicados). Se publica tal cual.",
    },
}


def role_description(role: str, lang: str = "en") -> str:
    """What a disclosure role means, in `lang` (English where no translation exists)."""
    return ROLE_DESCRIPTIONS_I18N.get(lang, {}).get(role) or ROLE_DESCRIPTIONS[role]


def _pick(labels: dict[str, str], fallback: str, lang: str) -> str:
    return labels.get(lang) or fallback


@dataclass(frozen=True)
class Code:
    """One allowed value of a code list: the machine `code`, its English `label` and its translations."""

    code: str
    label: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    since: str = "0.1.0"

    def label_in(self, lang: str = "en") -> str:
        """The label in `lang` (en, fr, es); English where no translation exists."""
        return self.label if lang == "en" else _pick(self.labels, self.label, lang)


@dataclass(frozen=True)
class CodeList:
    name: str
    label: str
    entries: tuple[Code, ...]
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(e.code for e in self.entries)

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def __len__(self) -> int:
        return len(self.entries)

    def label_of(self, code: str, lang: str = "en") -> str:
        """The label of `code` in `lang` (default English). KeyError for an unknown code."""
        return self._index[code].label_in(lang)

    def entry(self, code: str) -> Code:
        """The `Code` object of `code`, with its extra attributes (e.g. `isic`, `group`, `min`/`max`)."""
        try:
            return self._index[code]
        except KeyError:
            raise CodebookError(
                f"Code list '{self.name}' has no code '{code}'.", {"codelist": self.name}
            ) from None

    def label_in(self, lang: str = "en") -> str:
        """The code list's own title in `lang`."""
        return self.label if lang == "en" else _pick(self.labels, self.label, lang)

    @property
    def _index(self) -> dict[str, Code]:
        # Cached on the instance; frozen dataclasses need object.__setattr__.
        idx = self.__dict__.get("_idx")
        if idx is None:
            idx = {e.code: e for e in self.entries}
            object.__setattr__(self, "_idx", idx)
        return idx


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: FieldType
    role: Role
    description: str = ""
    codelist: CodeList | None = None
    required: bool = False
    hierarchy: tuple[str, ...] = ()
    min: int | float | None = None
    max: int | float | None = None
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    unit: str = ""
    key: bool = False
    references: str = ""
    since: str = "0.1.0"
    # crosswalk name -> source fields or columns it is filled from, e.g. {"htcds-2.0": ("prs_Gender",)}
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)
    descriptions: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def description_in(self, lang: str = "en") -> str:
        """The description in `lang`; English where no translation exists."""
        return self.description if lang == "en" else _pick(self.descriptions, self.description, lang)

    @property
    def is_direct_identifier(self) -> bool:
        return self.role == "direct_identifier"

    @property
    def is_multivalued(self) -> bool:
        """True for `codes` fields: several codes, `;`-joined in flat files."""
        return self.type == "codes"

    def label_in(self, lang: str = "en") -> str:
        return self.label if lang == "en" else _pick(self.labels, self.label, lang)


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    description: str
    privacy_unit: str
    fields: tuple[Field, ...]
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    since: str = "0.1.0"
    descriptions: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def description_in(self, lang: str = "en") -> str:
        return self.description if lang == "en" else _pick(self.descriptions, self.description, lang)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise CodebookError(
            f"Dataset '{self.name}' has no field '{name}'.", {"dataset": self.name, "field": name}
        )

    def __contains__(self, name: object) -> bool:
        return name in self.field_names

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def direct_identifiers(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.is_direct_identifier)

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        """Fields that may reach the harmonized store: everything but direct identifiers."""
        return tuple(f for f in self.fields if not f.is_direct_identifier)

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.role == "quasi_identifier")

    @property
    def sensitive_attributes(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.role == "sensitive")

    @property
    def key(self) -> str | None:
        """The dataset's own surrogate key field, if it has one."""
        return next((f.name for f in self.fields if f.key), None)

    def label_in(self, lang: str = "en") -> str:
        return self.label if lang == "en" else _pick(self.labels, self.label, lang)

    def as_of(self, version: str) -> Dataset:
        """The dataset type restricted to the fields that existed in standard `version`.

        For code that stores or releases a fixed set of columns (a database table, a release layout) and moves
        to a newer standard only when it is ready: `dataset.as_of("0.1.0").stored_fields`.
        Code lists are not narrowed: newer codes of a kept field stay allowed.
        """
        wanted = _version_tuple(version)
        return replace(self, fields=tuple(f for f in self.fields if _version_tuple(f.since) <= wanted))


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


@dataclass(frozen=True)
class Standard:
    version: str
    datasets: dict[str, Dataset]
    codelists: dict[str, CodeList]
    languages: tuple[str, ...] = LANGUAGES

    def dataset(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            known = ", ".join(sorted(self.datasets))
            raise CodebookError(
                f"Unknown dataset type '{name}'. Known: {known}.", {"dataset": name}
            ) from None

    def codelist(self, name: str) -> CodeList:
        try:
            return self.codelists[name]
        except KeyError:
            raise CodebookError(f"Unknown code list '{name}'.", {"codelist": name}) from None

    def used_codelists(self) -> tuple[CodeList, ...]:
        """The code lists some field uses, in order of first use (what a codebook prints)."""
        seen: dict[str, CodeList] = {}
        for ds in self.datasets.values():
            for f in ds.fields:
                if f.codelist is not None:
                    seen.setdefault(f.codelist.name, f.codelist)
        return tuple(seen.values())
