"""Amaranth stages of the `window` policy (docs/format.md, section 11), one per function of
its golden model :mod:`facet.window`, and the datapaths that chain them
(:mod:`facet.rtl.window.codec`)."""
