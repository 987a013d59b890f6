"""Words the rules look for in raw text (counts, table headers, captions, notes), each spelled once as a
regular-expression alternation; every expression that needs one is built from it.

The lexicon (resources/*.jsonl) names the same things as concepts for spaCy; these fragments serve the rules that
read text around a value rather than concept spans. Use them case-insensitively.
"""

from extractors.values import ROMAN_NUMERALS, roman_alternation

# Plasma exchange's short forms ("TPE ×3", "PLEX x2"; a tuple for rules that need fixed-width look-behinds)
EXCHANGE_SHORT_FORMS = ("TPE", "PLEX", "PEX", "PE")
# Its long names, which also count it: "plasma exchange(s)", "plasma-exchange", "plasmapheresis", "plasmaphereses"
EXCHANGE_LONG_NAME = r"(?:plasma[- ]exchanges?|plasmaphereses|plasmapheresis)"
# Plasma exchange by any name: "TPE", "PE", "plasma exchange", "plasmapheresis", "apheresis"
EXCHANGE_NAME = rf"(?:{'|'.join(EXCHANGE_SHORT_FORMS)}|{EXCHANGE_LONG_NAME}|apheresis)"

# A word summarising a group's figures, which no patient's value is: "median", "mean" (not "mean arterial pressure"),
# "average"
GROUP_SUMMARY_WORD = r"(?:median|mean(?!\s+(?:arterial|corpuscular|platelet|cell|fluorescence))|average)"

# The word of a patient's label: "Patient 2", "Case II", "Pt. 3", "Pt 4", "Subject 5", and a capital P written against
# its number, as terse abstracts do ("P1: CRS onset D+1")
PATIENT_WORD = r"(?:patient|case|pt\.?|subject|(?-i:P)(?=\d))"
# A number sign before a label's number: "Patient No. 3", "Case #2"
NUMBER_SIGN = r"(?:no\.?|\#)"  # "#" escaped: the fragment may sit in a verbose expression
# A label's number: "2", "II", "vii", "B" (a capital letter from A to H, whatever the case-insensitivity around it)
PATIENT_NUMBER = rf"(?:\d{{1,2}}|{roman_alternation()}|(?-i:[A-H]))"


def number_of(token: str) -> int:
    """A label's number written "2", "II" or "B" (0 if it is none)."""
    if token.isdigit():
        return int(token)
    if len(token) == 1 and token.isupper() and token not in "IVX":
        return ord(token) - ord("A") + 1
    return ROMAN_NUMERALS.get(token.lower(), 0)
