"""Frameworks layer: one folder per web framework, each behind the ``Framework`` protocol.

A framework's folder holds how its routes are found (``routes.py`` and the modules it uses),
which of its objects carry the request (the dataflow engine's sources, as data in the
package's ``__init__``), and where its guards are recognised. Helpers shared by every Python
web framework live in ``_python/``, those shared by the JavaScript routers in ``_js/``.
``registry.py`` lists the frameworks; ``base.py`` defines the protocol. This layer imports
only the model, ``code/`` and ``claims/``, never ``collect/`` (tests/test_layers.py).
"""
