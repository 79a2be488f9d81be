"""Synthetic and semi-synthetic annotated face video: the embedded default benchmark.

``SyntheticBuilder(...).build(INDEX_DIR)`` writes a WFLW-V, 300-VW or YTC style release into
``INDEX_DIR/release`` and indexes it with the normal builder of that layout. Modules: ``faces``
(98-point model), ``draw``, ``motion``, ``scene``, ``degrade``, ``generator`` (one clip),
``from_images`` (semi-synthetic clips), ``release`` (layout writers), ``presets``, ``builder``.
"""

from wflwv.datasets.synthetic.builder import GENERATOR_VERSION, SyntheticBuilder, SyntheticError

__all__ = ["GENERATOR_VERSION", "SyntheticBuilder", "SyntheticError"]
