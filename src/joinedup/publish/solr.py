"""The subset of Solr's query syntax that ``package_search``'s ``q`` and ``fq`` accept.

Grammar (a proper recursive-descent parser, not string matching)::

    query   := or ( EOF )
    or      := and ( "OR" and )*
    and     := unary ( "AND"? unary )*          -- juxtaposition means AND, as in CKAN
    unary   := ( "NOT" | "-" | "+" )? primary
    primary := "(" or ")" | "*:*" | FIELD ":" value | FIELD ":" "(" value ( "OR"? value )* ")"
    value   := '"quoted phrase"' | word | "*"    -- ``field:*``: the field has any value

A bare word (no ``field:``) searches the ``text`` field. Anything else Solr has (ranges
``[a TO b]``, wildcards inside words, fuzzy ``~``, boosts ``^``, local params ``{!…}``, regular
expressions) is refused with :class:`QueryError` naming it, never ignored. String fields match
the whole value (case-insensitive); text fields match when every word of the value is in the
text."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Doc = Mapping[str, Sequence[str]]
Predicate = Callable[[Doc], bool]
_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|([^\s()"]+))')
_UNSUPPORTED = {
    "[": "range queries ([a TO b])",
    "{": "range queries and local parameters ({…})",
    "~": "fuzzy and proximity searches (~)",
    "^": "boosts (^)",
    "/": "regular expressions (/…/)",
}


class QueryError(ValueError):
    """A query outside the supported subset; the message says what and where."""


@dataclass(frozen=True)
class Fields:
    """The fields a query may name: whole-value string fields and tokenised text fields."""

    strings: frozenset[str]
    texts: frozenset[str]

    def kind(self, name: str) -> str:
        if name in self.strings:
            return "string"
        if name in self.texts:
            return "text"
        known = ", ".join(sorted(self.strings | self.texts))
        raise QueryError(f"unknown field {name[:40]!r} (fields: {known})")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"cannot read the query at character {position + 1}")
        item = next(g for g in match.groups() if g is not None)
        out.append(item)
        position = match.end()
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _bare(item: str) -> str:
    if item.startswith('"'):
        return re.sub(r"\\(.)", r"\1", item[1:-1])
    for mark, what in _UNSUPPORTED.items():
        if mark in item:
            raise QueryError(f"{what} are not supported")
    if item != "*" and ("*" in item or "?" in item):
        raise QueryError("wildcards inside a value (* or ?) are not supported")
    return re.sub(r"\\(.)", r"\1", item)


class _Parser:
    def __init__(self, text: str, fields: Fields) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.fields = fields

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        item = self.peek()
        if item is None:
            raise QueryError("the query ends too early")
        self.at += 1
        return item

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda doc: True
        predicate = self.or_()
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()!r}")
        return predicate

    def or_(self) -> Predicate:
        parts = [self.and_()]
        while self.peek() in ("OR", "||"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else lambda doc: any(p(doc) for p in parts)

    def and_(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() not in (None, ")", "OR", "||"):
            if self.peek() in ("AND", "&&"):
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else lambda doc: all(p(doc) for p in parts)

    def unary(self) -> Predicate:
        item = self.peek()
        if item in ("NOT", "!", "-", "+"):
            self.take()
            inner = self.primary()
            return inner if item == "+" else (lambda doc: not inner(doc))
        if item is not None and item[:1] in "-+!" and len(item) > 1:
            self.tokens[self.at] = item[1:]  # -field:value, +field:value
            inner = self.primary()
            return inner if item[0] == "+" else (lambda doc: not inner(doc))
        return self.primary()

    def primary(self) -> Predicate:
        item = self.take()
        if item == "(":
            inner = self.or_()
            if self.take() != ")":
                raise QueryError("a parenthesis is not closed")
            return inner
        if item in (")", "AND", "OR", "&&", "||"):
            raise QueryError(f"unexpected {item!r}")
        if item == "*:*":
            return lambda doc: True
        if item.startswith('"') or ":" not in item:
            return self.match("text", _bare(item))
        name, _, rest = item.partition(":")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
            raise QueryError(f"{name[:40]!r} is not a field name")
        if rest:
            return self.match(name, _bare(rest))
        if self.peek() == "(":
            self.take()
            values: list[Predicate] = []
            while self.peek() not in (")", None):
                value = self.take()
                if value in ("OR", "||"):
                    continue
                if value in ("AND", "&&", "("):
                    raise QueryError(f"only OR lists are supported inside {name}:( … )")
                values.append(self.match(name, _bare(value)))
            if self.take() != ")" or not values:
                raise QueryError(f"{name}:( … ) needs values and a closing parenthesis")
            return lambda doc: any(v(doc) for v in values)
        return self.match(name, _bare(self.take()))

    def match(self, name: str, value: str) -> Predicate:
        kind = self.fields.kind(name)
        if value == "*":
            return lambda doc: any(v for v in doc.get(name, ()))
        if kind == "string":
            wanted = value.lower()
            return lambda doc: any(v.lower() == wanted for v in doc.get(name, ()))
        words = _words(value)

        def has_words(doc: Doc) -> bool:  # a value with no words (only punctuation) finds nothing
            text = set(_words(" ".join(doc.get(name, ()))))
            return bool(words) and all(w in text for w in words)

        return has_words


def parse_query(text: str, fields: Fields) -> Predicate:
    """A predicate over documents (field → values) for a query in the supported subset."""
    if len(text) > 1000:
        raise QueryError("at most 1000 characters")
    return _Parser(text, fields).parse()


def parse_sort(text: str, allowed: Mapping[str, str]) -> list[tuple[str, bool]]:
    """``"field asc, other desc"`` → ``[(key, descending)]``; ``allowed`` maps Solr sort
    fields to document keys."""
    out: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            raise QueryError("sort: an empty sort field")
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise QueryError(f"sort: {part.strip()[:60]!r} is not 'field asc' or 'field desc'")
        if words[0] not in allowed:
            raise QueryError(
                f"sort: cannot sort by {words[0][:40]!r} (fields: {', '.join(sorted(allowed))})"
            )
        out.append((allowed[words[0]], len(words) == 2 and words[1].lower() == "desc"))
    return out
