"""Keyed hashes made at intake: the identity hash (one person across organisations) and the record-id hash.

Both are HMAC-SHA256 with the deployment's secret (`CTDC_IDENTITY_KEY`), so nobody without the key can test a
guessed name or case number against them.

- `identity_hash(name, birth date, citizenship)`: names are transliterated to Latin (`anyascii`, a maintained
  Unicode -> ASCII table covering every script; Arabic and Hebrew vowel signs dropped first), then folded (case, punctuation) and their tokens sorted, so
  "Мария Иванова", "IVANOVA Mariya" and "Mariya  Ivanova" hash alike. Before, every non-ASCII character was
  dropped: a Cyrillic, Arabic or Chinese name hashed to nothing and was never matched. Han and Hangul
  characters become one token each (their syllable), because CJK names are written with or without spaces.
  Transliteration drops tones and vowel marks, so two different names in one script may fold alike (王小明 and
  汪晓明 are both "wang xiao ming"): with the same birth date and citizenship that is a flag for a steward, not a merge.
- `record_id_hash(record ids, key, organisation)`: the contributor's own record id, keyed per organisation. The
  raw id is a linkage key once it sits in a central database (a case number is printed on letters and court files);
  only this hash is stored, and two organisations' equal ids hash differently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import polars as pl
from anyascii import anyascii

# One token per Han or Hangul character (a syllable): "王小明" and "王 小明" must fold alike. Kana stay whole
# words, as in Latin script.
_SYLLABIC = r"([\p{Han}\p{Hangul}])"
_OPTIONAL_MARKS = r"[\u0591-\u05C7\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED]"


def fold_names(names: pl.Series) -> pl.Series:
    """Names as lowercase ASCII tokens, space-separated (not yet sorted); null stays null.

    >>> fold_names(pl.Series(["Мария Иванова", "José NÚÑEZ", "王小明", "O'Brien-Smith", "محمد"])).to_list()
    ['mariya ivanova', 'jose nunez', 'wang xiao ming', 'obriensmith', 'mhmd']
    """
    # Arabic and Hebrew vowel signs are optional in writing ("مُحَمَّد" is "محمد"): they go. Other marks stay for
    # anyascii, which knows "й" is "y" and "é" is "e". NFC first, so a name folds alike whichever Unicode
    # normal form the source used ("й" or "и" + breve).
    bare = names.str.normalize("NFC").str.replace_all(_OPTIONAL_MARKS, "")
    spaced = bare.str.replace_all(_SYLLABIC, " $1 ")
    # Transliterate each distinct non-ASCII name once (anyascii is a Python table lookup per character).
    foreign = spaced.filter(~spaced.str.contains(r"^[\x00-\x7F]*$")).unique().drop_nulls()
    latin = spaced.replace(foreign, pl.Series([anyascii(s) for s in foreign.to_list()], dtype=pl.String)) \
        if foreign.len() else spaced
    return latin.str.to_lowercase().str.replace_all(r"[^a-z0-9\s]", "").str.replace_all(r"\s+", " ") \
        .str.strip_chars()


def identity_hash(names: pl.Series, births: pl.Series, citizenship: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 of folded name, birth date and citizenship; null unless name and birth date are known.

    Names are transliterated and folded (`fold_names`) and their tokens sorted, because sources order them
    differently ("DUPONT Marie" vs "Marie Dupont").

    >>> import datetime as dt
    >>> born, fr = pl.Series([dt.date(1990, 1, 2)]), pl.Series(["FR"])
    >>> a = identity_hash(pl.Series(["DUPONT Marie"]), born, fr, b"k")
    >>> b = identity_hash(pl.Series(["Marie  Dupont"]), born, fr, b"k")
    >>> a[0] == b[0] and len(a[0]) == 64
    True
    >>> identity_hash(pl.Series(["Мария Иванова"]), born, fr, b"k")[0] == identity_hash(
    ...     pl.Series(["IVANOVA Mariya"]), born, fr, b"k")[0]
    True
    """
    frame = pl.DataFrame({"n": fold_names(names), "b": births, "c": citizenship})
    folded = frame.select(
        pl.when(pl.col("b").is_not_null()).then(pl.col("n")).alias("n"),
        pl.concat_str([pl.lit("|"), pl.col("b").cast(pl.String), pl.lit("|"), pl.col("c").fill_null("")]).alias("rest"),
    )
    # Token sorting and the MAC run in one plain loop: polars' list sort is slower than this for short lists.
    # The HMAC pads are hashed once and copied per row. Slices of 100,000 rows keep the Python strings
    # alive at any moment to one slice, whatever the file's size.
    # Only rows with a name and a birth date get a hash: a file without names (a public layout, a hotline's
    # anonymous calls) costs no Python loop at all.
    named = folded.with_row_index("__i").filter(pl.col("n").str.contains(r"\S"))
    inner0, outer0 = _hmac_pads(key)
    parts = []
    for start in range(0, named.height, 100_000):
        out: list[str] = []
        for name, rest in named.slice(start, 100_000).select("n", "rest").iter_rows():
            inner = inner0.copy()
            inner.update((" ".join(sorted(name.split())) + rest).encode())
            outer = outer0.copy()
            outer.update(inner.digest())
            out.append(outer.hexdigest())
        parts.append(pl.Series("identity_hash", out, dtype=pl.String))
    hashes = pl.concat(parts) if parts else pl.Series("identity_hash", [], dtype=pl.String)
    if named.height == folded.height:
        return hashes
    blank = pl.Series("identity_hash", [None] * folded.height, dtype=pl.String)
    return blank.scatter(named["__i"], hashes) if named.height else blank


def record_id_hash(record_ids: pl.Series, key: bytes, organisation: str) -> pl.Series:
    """HMAC-SHA256 of each record id, keyed with the deployment secret and bound to the organisation.

    The message starts with a label and the organisation, so it can never equal an identity hash's message and
    two organisations' "A1" differ. Equal ids give equal hashes: duplicates within a file and re-submissions
    (which update the organisation's earlier record) work on the hash as they did on the id.

    >>> h = record_id_hash(pl.Series(["A1", "A1", "B2"]), b"k", "org:1")
    >>> h[0] == h[1] != h[2], len(h[0]), h[0] == record_id_hash(pl.Series(["A1"]), b"k", "org:2")[0]
    (True, 64, False)
    """
    inner0, outer0 = _hmac_pads(key)
    inner0.update(f"record-id\x1f{organisation}\x1f".encode())  # the common prefix is hashed once
    copy_inner, copy_outer = inner0.copy, outer0.copy
    # In slices of 100,000: the Python strings alive at any moment are one slice's, whatever the file's size.
    ids = record_ids.cast(pl.String)
    parts = []
    for start in range(0, ids.len(), 100_000):
        out: list[str | None] = []
        append = out.append
        for value in ids.slice(start, 100_000).to_list():
            if value is None:
                append(None)
                continue
            inner = copy_inner()
            inner.update(value.encode())
            outer = copy_outer()
            outer.update(inner.digest())
            append(outer.hexdigest())
        parts.append(pl.Series(record_ids.name, out, dtype=pl.String))
    return pl.concat(parts) if parts else pl.Series(record_ids.name, [], dtype=pl.String)


def _hmac_pads(key: bytes) -> tuple[object, object]:
    """HMAC-SHA256 (RFC 2104) as two pre-keyed hashlib states: per row, two C-level copies instead of Python's
    hmac objects, a third faster on a million rows and the same digest.

    >>> import hmac
    >>> inner, outer = _hmac_pads(b"k")
    >>> i = inner.copy(); i.update(b"m"); o = outer.copy(); o.update(i.digest())
    >>> o.hexdigest() == hmac.new(b"k", b"m", hashlib.sha256).hexdigest()
    True
    """
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))


def identity_groups(keys: pl.Series, hashes: pl.Series, *, different: Iterable[tuple[int, int]] = (),
                    same: Iterable[tuple[int, int]] = ()) -> pl.Series:
    """The identity group of each record, named by its smallest key: the privacy unit of a release snapshot.

    Records are one person when they share an identity hash (in one organisation or across organisations),
    unless a steward said the pair are `different` people; pairs a steward said are the `same` person join too.
    Groups are the connected components of those links, so a possible duplicate still awaiting review counts as
    one person (the safe side: one victim never becomes two rows). Records without a hash are alone.

    >>> g = identity_groups(pl.Series([1, 2, 3, 4, 5]), pl.Series(["a", "a", "b", None, "b"]), different=[(3, 5)],
    ...                     same=[(4, 1)])
    >>> g.to_list()
    [1, 1, 3, 1, 5]
    """
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the smaller key names the group

    apart = {(min(a, b), max(a, b)) for a, b in different}
    frame = pl.DataFrame({"k": keys, "h": hashes})
    shared = (frame.drop_nulls("h").group_by("h").agg(pl.col("k").sort()).filter(pl.col("k").list.len() > 1))
    apart_keys = {k for pair in apart for k in pair}
    for members in shared["k"].to_list():
        if not apart_keys.intersection(members):
            for a, b in zip(members[:-1], members[1:], strict=True):  # a chain links them all
                union(a, b)
            continue
        # Every pair of the hash group is linked, except those a steward set apart.
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if (a, b) not in apart:
                    union(a, b)
    known = set(keys.to_list()) if same else set()
    for a, b in same:
        if a in known and b in known:
            union(a, b)
    return pl.Series("identity_group", [find(k) for k in keys.to_list()], dtype=keys.dtype)
