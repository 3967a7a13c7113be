"""Statement and journal file parsers: bytes in, validated rows out, every problem by line.

Parsers write nothing: the services decide what to store. Each refuses a file with every problem
it found (line or row, column, message) rather than stopping at the first.
"""

from banking.parsers.common import ParsedLine, ParsedStatement, Problems
from banking.parsers.detect import detect_format, statement_parse

__all__ = ["ParsedLine", "ParsedStatement", "Problems", "detect_format", "statement_parse"]
