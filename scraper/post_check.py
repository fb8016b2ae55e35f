"""A transform's post is checked before anything uses it.

Transforms read what a platform or a file says, and a hostile record can
say anything: a list where a handle should be, a mapping for a count, a
URL nested a thousand lists deep. Such values would fail far from their
cause (a string method in the normaliser, a database binding in the
archive, which would then stop a whole import). :func:`check_post` refuses
them where the post is made, as a :class:`ParseFailure`, so the item
becomes a parse error with its raw payload like any other unreadable item.

The expected type of each field comes from :class:`scraper.model.Post`'s
own annotations, so a new field is checked without a line here.
"""

from __future__ import annotations

import json
import operator
import types
import typing
from dataclasses import fields

import orjson

from .errors import ParseFailure
from .model import Post


def _checker(annotation):
    """(accepted types, element type or None) for one field's annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        accepted = tuple(typing.get_origin(a) or a for a in typing.get_args(annotation))
        return accepted, None
    if origin is list:
        (element,) = typing.get_args(annotation) or (object,)
        return (list,), typing.get_origin(element) or element
    return (origin or annotation,), None


_HINTS = typing.get_type_hints(Post)
_FIELDS = [(f.name, *_checker(_HINTS[f.name])) for f in fields(Post)]
# Split by kind of check once: this runs for every post.
_SIMPLE = [(name, accepted) for name, accepted, element in _FIELDS if element is None]
_INTEGERS = [name for name, accepted, _element in _FIELDS if int in accepted]
_LISTS = [(name, element) for name, _accepted, element in _FIELDS if element is not None and element is not typing.Any]
_JSON_FIELDS = ("media", "extra")  # stored as JSON: must serialise, at any depth they hold
_SQLITE_INTEGERS = (-(2**63), 2**63 - 1)


def check_post(post: Post) -> Post:
    """``post`` if each field holds the type Post declares; else ParseFailure.

    Runs for every post an import reads, so an ordinary post takes a fast
    path: the types of all its fields in one tuple, looked up among the
    combinations already found good; its counts, media and extra written
    by orjson (counts within 53 bits, far inside SQLite's 64; media and
    extra nested less than 255 deep); its lists of text joined. Anything
    else (a new combination of types, a value orjson or str.join refuses,
    media that are not mappings) takes the full check, which accepts the
    post or says what is wrong with it."""
    if tuple(map(type, post.__dict__.values())) in _TYPES_FOUND_GOOD:
        try:
            _dumps(_json_values(post), option=_STRICT_INTEGER)
            _join([*post.hashtags, *post.mentions, *post.links])
        except TypeError:  # (orjson's JSONEncodeError is one)
            pass
        else:
            media = post.media
            if not media or all(type(item) is dict for item in media):
                return post
    return _check_fully(post)


def _check_fully(post: Post) -> Post:
    _check_types(post)
    if len(_TYPES_FOUND_GOOD) < 1024:
        _TYPES_FOUND_GOOD.add(tuple(map(type, post.__dict__.values())))
    _check_values(post)
    return post


# Combinations of field types that passed _check_types (a handful in practice:
# which optional fields a platform's posts leave empty).
_TYPES_FOUND_GOOD: set[tuple] = set()
_json_values = operator.attrgetter(*Post.COUNT_FIELDS, "media", "extra")
_dumps = orjson.dumps
_STRICT_INTEGER = orjson.OPT_STRICT_INTEGER
_join = "".join


def _check_types(post: Post) -> None:
    for name, accepted in _SIMPLE:
        value = getattr(post, name)
        if not isinstance(value, accepted):
            raise ParseFailure(f"field {name} is {_kind(value)}, not {_names(accepted)}")
    for name, _element in _LISTS:
        value = getattr(post, name)
        if type(value) is not list:
            raise ParseFailure(f"field {name} is {_kind(value)}, not a list")


def _check_values(post: Post) -> None:
    low, high = _SQLITE_INTEGERS
    for name in _INTEGERS:
        value = getattr(post, name)
        if type(value) is int and not low <= value <= high:
            raise ParseFailure(f"field {name} is {value}, beyond the 64-bit integers SQLite stores")
    for name, element in _LISTS:
        for item in getattr(post, name):
            if not isinstance(item, element):
                raise ParseFailure(f"field {name} holds {_kind(item)}, not {_names((element,))}")
    for name in _JSON_FIELDS:
        try:
            orjson.dumps(getattr(post, name))
        except TypeError:  # (orjson stops at 255 levels, or on what it cannot write)
            try:
                json.dumps(getattr(post, name))
            except RecursionError:
                raise ParseFailure(f"field {name} is nested too deeply to store") from None
            except (TypeError, ValueError) as exc:
                raise ParseFailure(f"field {name} cannot be stored as JSON ({exc})") from None


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(type(value), type(value).__name__)


def _names(accepted: tuple) -> str:
    return " or ".join("nothing" if t is type(None) else getattr(t, "__name__", str(t)) for t in accepted)
