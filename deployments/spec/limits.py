"""Size and shape limits for untrusted stack text (format.md §7).

One place for every number, so the docs, the zip reader and the loader agree.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

MAX_FILE_BYTES = 256 * KIB
MAX_STACK_BYTES = 2 * MIB
MAX_FILES = 200

# Per YAML document, counted with aliases expanded: an alias bomb of a few hundred bytes
# describes billions of nodes, and every later walk (variables, pydantic, hashing) would
# pay for the expansion even though the loader shares the objects.
MAX_NODES_PER_DOCUMENT = 100_000
MAX_DEPTH = 64

# Our additions, for the whole stack. Every node the loader builds is walked again by
# variables, the schemas and the plan (~3 µs each), and an alias repeats nodes for a few
# bytes: forty 300-byte documents each just under the per-document cap would cost seconds.
# So the extra nodes aliases add are capped for the stack (ordinary stacks use a few
# anchors, if any), and so is the total, which the 2 MiB size bounds anyway
# (a written node takes at least ~3 bytes).
MAX_ALIAS_NODES_PER_STACK = 50_000
MAX_NODES_PER_STACK = 1_000_000

# An integer literal longer than this is refused before int() sees it: Python's own
# guard (4300 digits) raises ValueError, and nothing in a stack needs more than 64 bits.
MAX_INT_DIGITS = 20

# Zip uploads: the archive itself and the sum of its declared and actual member sizes.
MAX_ZIP_BYTES = MAX_STACK_BYTES
MAX_ZIP_UNCOMPRESSED_BYTES = MAX_STACK_BYTES
