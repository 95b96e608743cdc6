"""Stage components of the `vlc` policy (docs/format.md, section 10), one per model function
of :mod:`facet.vlc`; each is compared with its model function in the stage tests."""
