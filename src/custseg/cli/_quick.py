"""Plain command lines, run without Typer's parsing: the start-up of ``score`` and ``segment``.

Typer converts each option value with a pydantic ``TypeAdapter``; importing
pydantic and building the adapters takes about as long as scoring 200 customers.
A command of :data:`QUICK_COMMANDS` is therefore called directly when its
command line is *plain*: only the command's own arguments and options, each
given once, each a path, a word, a number in plain digits or a flag. A word
is passed as it is, as Typer passes it; a value starting with ``-`` is
Typer's to read. The parameters are read from
the command's Typer declaration, so there is one declaration. Anything else
(``--help``, a root option such as ``--debug``, an unknown, repeated or
misplaced option, a value Typer would have to check or refuse) is left to
Typer, which parses it and words its errors as for every other command.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer.models

__all__ = ["QUICK_COMMANDS", "plain_call", "quick_command"]

#: The commands whose start-up matters enough to skip Typer's parsing.
QUICK_COMMANDS = ("score", "segment")
# Declaration fields that may differ from Typer's defaults: they change the help,
# not how a value is read.
_DESCRIPTIVE = {"default", "param_decls", "help", "min", "show_default", "metavar", "hidden"}
_KINDS = (bool, int, float, str, Path)
#: A number as Typer reads it for a float option, in the one spelling read here.
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


@dataclass(frozen=True)
class _Param:
    """One parameter of a command, as the plain reading needs it."""

    name: str
    kind: type
    flags: tuple[str, ...]  # empty for a positional argument
    default: Any
    minimum: float | None


def _declared(hint: Any, default: Any) -> _Param | None:
    """A parameter from its type hint and ``=`` default; None if it is not plain."""
    info = default
    decls: tuple[str, ...] = ()
    if typing.get_origin(hint) is typing.Annotated:
        hint, *extras = typing.get_args(hint)
        info = next((e for e in extras if isinstance(e, typer.models.ParameterInfo)), None)
        if info is None:
            return None
        # In Annotated[...], Typer reads a leading flag as the first declaration and
        # takes the default from '=' (none: required).
        decls = (info.default,) if isinstance(info.default, str) else ()
        default = ... if default is inspect.Parameter.empty else default
    elif isinstance(info, typer.models.ParameterInfo):
        default = info.default
    else:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = kinds[0] if len(kinds) == 1 else None
    reference = vars(type(info)())
    if hint not in _KINDS or any(
        value != reference[key] for key, value in vars(info).items() if key not in _DESCRIPTIVE
    ):
        return None
    flags = decls + tuple(info.param_decls or ())
    if isinstance(info, typer.models.OptionInfo) and (
        not flags or any("/" in f or not f.startswith("-") for f in flags)
    ):
        return None  # flags Typer derives itself, or an on/off pair
    if (isinstance(info, typer.models.ArgumentInfo) and flags) or (hint is bool and default):
        return None
    return _Param("", hint, flags, default, info.min)


def _params(command: Callable[..., Any]) -> list[_Param] | None:
    """The parameters of a Typer command function; None if one is not plain."""
    hints = typing.get_type_hints(command, include_extras=True)
    params = []
    for name, parameter in inspect.signature(command).parameters.items():
        param = _declared(hints[name], parameter.default)
        if param is None:
            return None
        params.append(dataclasses.replace(param, name=name))
    return params


def _value(param: _Param, text: str) -> Any:
    """``text`` as the parameter's value; None where Typer might read it otherwise."""
    if not text or text.startswith("-"):
        return None
    if param.kind is Path:
        return Path(text)
    if param.kind is str:
        return text
    number: float
    if param.kind is float and _DECIMAL.fullmatch(text):
        number = float(text)
    elif param.kind is int and text.isascii() and text.isdigit():
        number = int(text)
    else:
        return None
    return number if param.minimum is None or number >= param.minimum else None


def _options(params: list[_Param], args: Sequence[str]) -> tuple[dict, list[str]] | None:
    """The options given in ``args``, and the other words in order; None if not plain."""
    by_flag = {flag: p for p in params for flag in p.flags}
    given: dict[str, Any] = {}
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        if not arg.startswith("-"):
            words.append(arg)
            continue
        flag, equals, text = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        param = by_flag.get(flag)
        if param is None or param.name in given or (param.kind is bool and equals):
            return None
        value = True if param.kind is bool else _value(param, text if equals else next(rest, ""))
        if value is None:
            return None
        given[param.name] = value
    return given, words


def plain_call(command: Callable[..., Any], args: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments ``args`` give ``command``; None unless the line is plain.

    Parameters
    ----------
    command : callable
        A Typer command function (parameters declared with ``typer.Argument``
        and ``typer.Option``).
    args : sequence of str
        The command line after the command's name.

    Returns
    -------
    dict or None
        The value of every parameter, defaults included, exactly as Typer would
        pass them; None when Typer must read this line.
    """
    params = _params(command)
    read = _options(params, args) if params is not None else None
    if params is None or read is None:
        return None
    given, words = read
    positional = [p for p in params if not p.flags]
    if len(words) != len(positional):
        return None
    for param, word in zip(positional, words, strict=True):
        if (value := _value(param, word)) is None:
            return None
        given[param.name] = value
    if any(p.default is ... for p in params if p.name not in given):
        return None  # a required option left out: Typer says so
    return {p.name: given.get(p.name, p.default) for p in params}


def quick_command(args: Sequence[str]) -> Callable[[], Any] | None:
    """The command ``custseg ARGS`` runs, ready to call, when its line is plain; else None.

    The command module is imported (registering the command on the app), and
    the function it declares under the command's name is called with the values
    :func:`plain_call` read.
    """
    if not args or args[0] not in QUICK_COMMANDS or os.environ.get("CUSTSEG_DEBUG"):
        return None
    name = args[0]
    command = getattr(importlib.import_module(f"custseg.cli.{name}"), name)
    values = plain_call(command, args[1:])
    if values is None:
        return None
    return lambda: command(**values)
