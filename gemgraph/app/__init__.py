r"""The application layer: the ``gemgraph`` command line (:mod:`.cli`), run directories
(:mod:`.runs`) and the CLI's tables. It parses, calls the library and prints; the library
(everything outside ``gemgraph.app``) never imports it."""
