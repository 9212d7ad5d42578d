"""Both clients carry out every command of the core's programs: the set is
closed, and a command added to the core without a driver counterpart fails
here rather than at run time."""
from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

import engineio
from engineio.sansio import client_commands as cmd

SRC = Path(engineio.__file__).parent


def handled(module: str, method: str) -> set[str]:
    """The command classes named by the ``case`` patterns of ``method``."""
    tree = ast.parse((SRC / module).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.name == method:
            for sub in ast.walk(node):
                if isinstance(sub, ast.MatchClass) and \
                        isinstance(sub.cls, ast.Attribute):
                    names.add(sub.cls.attr)
    return names


COMMANDS = {c.__name__ for c in typing.get_args(cmd.Command)}


@pytest.mark.parametrize('module', ['client.py', 'async_client.py'])
def test_every_command_has_exactly_one_executor(module: str) -> None:
    own = handled(module, '_execute')
    shared = handled('base_client.py', '_perform')
    assert own | shared == COMMANDS
    assert not own & shared, 'a command carried out twice'
