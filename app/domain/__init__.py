"""The pure core: plain dataclasses and functions. No I/O, no frameworks, time passed in."""
