"""Babel extractor: Python's messages, plus the parameter names of every declared command.

A command's parameters are shown to members by name (``!rsvp <number> <answer>``, "The
number is missing"), and those names are the handler's own (``async def rsvp(ctx, number,
answer)``): :func:`chatbot.dispatch.registry.display_name` looks each one up in the catalogs
in context :data:`~chatbot.base.i18n.PARAM_CONTEXT`. This extractor puts them there:
for every function decorated with ``@….command(…)``, each parameter after ``ctx`` (its
underscores read as spaces) becomes a ``_p`` message, unless the decorator gives it another
name (``names={"zone": _p(…, "city")}``, which Babel extracts as usual). So a new command's
parameters reach the translators with no list to keep (``babel.cfg`` names this extractor).
"""

from __future__ import annotations

import ast
import io
from collections.abc import Collection, Iterator
from typing import IO, Any

from chatbot.base.i18n import PARAM_CONTEXT

COMMENT = (
    "A command's parameter as members see it, in usage lines such as `!rsvp <number> "
    "<answer>` and in 'The number is missing'. One or two lower-case words, no spaces "
    "around them; the member types a value there, not this word."
)


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Collection[str], options: Any
) -> Iterator[tuple[Any, ...]]:
    """Babel's Python extraction, then each command parameter's name."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    copy = io.BytesIO(source)
    copy.name = getattr(fileobj, "name", "(unknown)")  # named in Babel's warnings
    yield from extract_python(copy, keywords, comment_tags, options)
    if b".command(" not in source:
        return
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for lineno, name in parameter_names(tree):
        yield lineno, "_p", (PARAM_CONTEXT, name), [COMMENT]


def parameter_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, shown name) of each parameter of each command declared in ``tree``."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if not _is_command(decorator):
                continue
            assert isinstance(decorator, ast.Call)
            named = _named(decorator)
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs][1:]:
                if arg.arg not in named:
                    yield arg.lineno, arg.arg.replace("_", " ")


def _is_command(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "command"
    )


def _named(decorator: ast.Call) -> set[str]:
    """The parameters the decorator's ``names={…}`` names otherwise."""
    for keyword in decorator.keywords:
        if keyword.arg == "names" and isinstance(keyword.value, ast.Dict):
            return {
                key.value
                for key in keyword.value.keys
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            }
    return set()
