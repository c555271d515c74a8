"""Sphinx configuration of the static site (built by ``python3 tasks.py site``)."""

project = "Glute Notebooks"
author = "Glute Notebooks contributors"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
myst_enable_extensions = ["colon_fence"]
nb_execution_mode = "off"  # the committed notebooks are already executed (and nbval-checked)
nb_merge_streams = True
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "furo"
html_title = "Glute Notebooks"
html_static_path = ["_static"]
html_js_files = ["plotly.min.js"]  # plotly.js once per page, one file for the whole site
html_css_files = ["glute.css"]
html_copy_source = False
html_show_sourcelink = False
# search result summaries are fetched from the pages, which browsers refuse on file://
html_show_search_summary = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "autodoc", "ref.python",
                     "myst.xref_missing", "docutils"]
