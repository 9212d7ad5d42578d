"""Sphinx configuration of the engineio documentation.

Build: ``sphinx-build -W -b html docs build/docs`` (warnings are errors;
tests/docs/test_docs_build.py runs exactly this). Pages are Markdown, read
by myst-parser; the API reference is generated from the docstrings.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'src'))

import engineio  # noqa: E402

project = 'engineio'
author = 'The engineio project'
copyright = 'the engineio project'
release = engineio.__version__
version = '.'.join(release.split('.')[:2])

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build']

myst_enable_extensions = ['colon_fence', 'deflist']
myst_heading_anchors = 3

autodoc_member_order = 'bysource'
autodoc_typehints = 'none'
autodoc_default_options = {'members': True, 'show-inheritance': False}

html_theme = 'alabaster'
html_title = f'engineio {release}'
html_static_path: list[str] = []
