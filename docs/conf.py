"""Sphinx configuration: the API reference from the docstrings, the guides from Markdown.

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from gemgraph import __version__  # noqa: E402

project = "gemgraph"
author = "the gemgraph authors"
release = version = __version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
# scikit-learn's metadata-routing helpers, inherited by the estimators, document sklearn's own glossary
autodoc_default_options = {"exclude-members": "set_fit_request, set_predict_request, set_score_request, "
                                              "set_transform_request, set_output, set_params, get_params, "
                                              "get_metadata_routing"}
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = f"gemgraph {release}"
